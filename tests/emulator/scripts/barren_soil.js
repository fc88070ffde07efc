//VERSION=3
// Bare soil index shown over NIR and SWIR.
function setup() {
  return { input: [{ bands: ["B02", "B04", "B08", "B11"] }], output: { bands: 3 } };
}

function evaluatePixel(s) {
  const bsi = ((s.B11 + s.B04) - (s.B08 + s.B02)) / ((s.B11 + s.B04) + (s.B08 + s.B02));
  return [2.5 * bsi, s.B08, s.B11];
}
