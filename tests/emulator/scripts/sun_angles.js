//VERSION=3
// The sun angles (degrees) as float bands, e.g. for a terrain or BRDF correction.
function setup() {
  return {
    input: ["sunZenithAngles", "sunAzimuthAngles", "viewZenithMean"],
    output: { bands: 3, sampleType: "FLOAT32" }
  };
}

function evaluatePixel(s) {
  return [s.sunZenithAngles, s.sunAzimuthAngles, s.viewZenithMean];
}
