//VERSION=3
// NDVI through valueInterpolate, red to yellow to green, clamped beyond the ends.
function setup() {
  return { input: ["B04", "B08"], output: { bands: 3, sampleType: SampleType.UINT8 } };
}

function evaluatePixel(s) {
  const ndvi = index(s.B08, s.B04);
  const rgb = valueInterpolate(ndvi, [-0.1, 0.3, 0.8], [[0.8, 0.1, 0.1], [0.9, 0.9, 0.2], [0.1, 0.6, 0.1]]);
  return rgb.map(function (v) { return v * 255; });
}
