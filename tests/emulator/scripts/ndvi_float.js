//VERSION=3
// Raw NDVI as 32-bit float, NaN (declared as nodata) outside the data.
function setup() {
  return {
    input: [{ bands: ["B04", "B08", "dataMask"] }],
    output: { id: "default", bands: 1, sampleType: "FLOAT32", nodataValue: NaN }
  };
}

function evaluatePixel(s) {
  if (s.dataMask === 0) return [NaN];
  return [(s.B08 - s.B04) / (s.B08 + s.B04)];
}
