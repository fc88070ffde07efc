//VERSION=3
// Enhanced vegetation index with a green colour ramp.
const viz = new ColorRampVisualizer([
  [-1, 0x0c0c0c],
  [0, 0xeaeaea],
  [0.2, 0xccc682],
  [0.4, 0x91bf51],
  [0.6, 0x4f892d],
  [1, 0x004400]
]);

function setup() {
  return { input: ["B02", "B04", "B08", "dataMask"], output: { bands: 4 } };
}

function evaluatePixel(s) {
  const evi = 2.5 * (s.B08 - s.B04) / (s.B08 + 6.0 * s.B04 - 7.5 * s.B02 + 1.0);
  return [...viz.process(evi), s.dataMask];
}
