/*
 * A script whose version line comes after a header comment and blank lines,
 * as many shared scripts begin (title, author, licence).
 */

// Author: the s2raster tests

//VERSION=3
function setup() {
  return { input: ["B02", "B03", "B04", "dataMask"], output: { bands: 4 } };
}

function evaluatePixel(s) {
  const gain = 3.0;
  return [gain * s.B04, gain * s.B03, gain * s.B02, s.dataMask];
}
