//VERSION=3
// NDVI scaled to INT16 (negative values kept), a compact way to store an index.
function setup() {
  return { input: ["B04", "B08"], output: { bands: 1, sampleType: SampleType.INT16 } };
}

function evaluatePixel(s) {
  return [10000 * index(s.B08, s.B04)];
}
