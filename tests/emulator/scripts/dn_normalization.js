//VERSION=3
// Bands in DN (UINT16), and the normalisation factor the service reports for DN: 1.
function setup() {
  return {
    input: [{ bands: ["B02", "B03", "B04"], units: "DN" }],
    output: { bands: 3, sampleType: "UINT16" }
  };
}

function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = { norm_factor: inputMetadata.normalizationFactor };
}

function evaluatePixel(sample) {
  return [sample.B02, sample.B03, sample.B04];
}
