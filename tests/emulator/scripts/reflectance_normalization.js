//VERSION=3
// The same in reflectance: the factor from DN to reflectance is 0.0001.
function setup() {
  return {
    input: [{ bands: ["B02", "B03", "B04"], units: "REFLECTANCE" }],
    output: { bands: 3, sampleType: "FLOAT32" }
  };
}

function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = { norm_factor: inputMetadata.normalizationFactor };
}

function evaluatePixel(sample) {
  return [sample.B02, sample.B03, sample.B04];
}
