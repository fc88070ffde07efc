//VERSION=3
// The scene classification map (SCL), one colour per class.
const PALETTE = {
  0: [0, 0, 0],          // no data
  1: [1, 0, 0.016],      // saturated or defective
  2: [0.525, 0.525, 0.525], // dark area pixels
  3: [0.467, 0.298, 0.043], // cloud shadows
  4: [0.063, 0.827, 0.176], // vegetation
  5: [1, 1, 0.325],      // bare soils
  6: [0, 0.016, 0.996],  // water
  7: [0.5, 0.5, 0.5],    // unclassified
  8: [0.682, 0.682, 0.682], // cloud medium probability
  9: [0.996, 0.996, 0.996], // cloud high probability
  10: [0.506, 0.996, 0.992], // thin cirrus
  11: [0.902, 0.502, 0.996]  // snow or ice
};

function setup() {
  return {
    input: [{ bands: ["SCL", "dataMask"], units: "DN" }],
    output: { bands: 4, sampleType: "UINT8" }
  };
}

function evaluatePixel(s) {
  const rgb = PALETTE[s.SCL] || [0, 0, 0];
  return [rgb[0] * 255, rgb[1] * 255, rgb[2] * 255, s.dataMask * 255];
}
