//VERSION=3
// Normalised burn ratio in classes (valueMap), one byte per pixel.
function setup() {
  return { input: ["B08", "B12"], output: { bands: 1, sampleType: "UINT8" } };
}

function evaluatePixel(s) {
  const nbr = index(s.B08, s.B12);
  return [valueMap(nbr, [-0.25, -0.1, 0.1, 0.27, 0.66], [5, 4, 3, 2, 1])];
}
