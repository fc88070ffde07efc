//VERSION=3
// Several outputs in one request: a picture, an index and the data mask.
function setup() {
  return {
    input: ["B02", "B03", "B04", "B08", "dataMask"],
    output: [
      { id: "rgb", bands: 3 },
      { id: "ndvi", bands: 1, sampleType: "FLOAT32" },
      { id: "mask", bands: 1, sampleType: "UINT8" }
    ]
  };
}

function evaluatePixel(s) {
  return {
    rgb: [2.5 * s.B04, 2.5 * s.B03, 2.5 * s.B02],
    ndvi: [index(s.B08, s.B04)],
    mask: [s.dataMask]
  };
}
