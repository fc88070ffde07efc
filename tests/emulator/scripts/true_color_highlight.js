//VERSION=3
// True colour stretched 0..0.4 with highlight compression, transparent where no data.
const viz = new HighlightCompressVisualizer(0.0, 0.4);

function setup() {
  return {
    input: ["B04", "B03", "B02", "dataMask"],
    output: { bands: 4 }
  };
}

function evaluatePixel(s) {
  return viz.processList([s.B04, s.B03, s.B02, s.dataMask]);
}
