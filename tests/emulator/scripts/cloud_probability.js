//VERSION=3
// Cloud probability (CLD, percent) on a blue-red ramp.
const viz = ColorRampVisualizer.createBlueRed(0, 100);

function setup() {
  return { input: [{ bands: ["CLD", "dataMask"], units: "DN" }], output: { bands: 4 } };
}

function evaluatePixel(s) {
  return viz.process(s.CLD).concat([s.dataMask]);
}
