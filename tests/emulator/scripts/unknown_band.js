//VERSION=3
// B10 (cirrus) exists in L1C only: an L2A request for it is refused.
function setup() {
  return { input: ["B10"], output: { bands: 1 } };
}

function evaluatePixel(s) {
  return [s.B10];
}
