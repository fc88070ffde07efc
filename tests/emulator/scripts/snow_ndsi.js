//VERSION=3
// Snow: NDSI above 0.42 with some NIR brightness shown in cyan over true colour.
function setup() {
  return { input: ["B02", "B03", "B04", "B08", "B11"], output: { bands: 3 } };
}

function evaluatePixel(s) {
  var ndsi = index(s.B03, s.B11);
  if (ndsi > 0.42 && s.B08 > 0.11) return [0, 0.8, 0.9];
  return [2.5 * s.B04, 2.5 * s.B03, 2.5 * s.B02];
}
