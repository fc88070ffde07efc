//VERSION=3
// True colour from Sentinel-2 L1C (top of atmosphere).
function setup() {
  return { input: ["B02", "B03", "B04", "B10"], output: { bands: 3 } };
}

function evaluatePixel(s) {
  var cirrus = s.B10 > 0.02 ? 0.1 : 0;
  return [3 * s.B04 - cirrus, 3 * s.B03 - cirrus, 3 * s.B02];
}
