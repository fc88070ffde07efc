//VERSION=3
// The agriculture composite (SWIR 1, NIR, blue).
function setup() {
  return { input: ["B02", "B08", "B11", "dataMask"], output: { bands: 4 } };
}

function evaluatePixel(s) {
  return [2.5 * s.B11, 2.5 * s.B08, 2.5 * s.B02, s.dataMask];
}
