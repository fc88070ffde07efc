//VERSION=3
// False colour urban (SWIR 2, SWIR 1, red), with a default visualizer.
let viz = new DefaultVisualizer(0.0, 0.4);

function setup() {
  return { input: ["B04", "B11", "B12"], output: { bands: 3 } };
}

function evaluatePixel(s) {
  return viz.processList([s.B12, s.B11, s.B04]);
}
