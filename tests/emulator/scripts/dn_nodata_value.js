//VERSION=3
// DN values with an explicit nodata value in the TIFF (65535 where there is no data).
function setup() {
  return {
    input: [{ bands: ["B08", "B11", "dataMask"], units: "DN" }],
    output: { bands: 2, sampleType: "UINT16", nodataValue: 65535 }
  };
}

function evaluatePixel(s) {
  return s.dataMask ? [s.B08, s.B11] : [65535, 65535];
}
