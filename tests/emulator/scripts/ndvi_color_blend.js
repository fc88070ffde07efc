//VERSION=3
// The older colorBlend spelling of the same idea, still found in many scripts.
function setup() {
  return { input: ["B04", "B08"], output: { bands: 3 } };
}

function evaluatePixel(s) {
  var v = index(s.B08, s.B04);
  return colorBlend(v, [0, 0.2, 0.4, 0.6, 0.8, 1], [
    [0.82, 0.45, 0.35],
    [0.82, 0.67, 0.35],
    [0.82, 0.81, 0.35],
    [0.75, 0.82, 0.35],
    [0.55, 0.82, 0.35],
    [0.44, 0.82, 0.35]
  ]);
}
