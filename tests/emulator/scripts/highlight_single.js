//VERSION=3
// A grey index picture through HighlightCompressVisualizerSingle (returns one band).
let viz = new HighlightCompressVisualizerSingle(-0.2, 0.8);

function setup() {
  return { input: [{ bands: ["B04", "B08"] }], output: { bands: 1 } };
}

function evaluatePixel(samples) {
  return viz.process(index(samples.B08, samples.B04));
}
