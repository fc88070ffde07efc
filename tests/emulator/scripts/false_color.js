//VERSION=3
// False colour infrared: vegetation in red.
function setup() {
  return { input: ["B03", "B04", "B08", "dataMask"], output: { bands: 4 } };
}

function evaluatePixel(s) {
  return [2.5 * s.B08, 2.5 * s.B04, 2.5 * s.B03, s.dataMask];
}
