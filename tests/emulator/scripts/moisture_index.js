//VERSION=3
// Moisture index (B8A, B11) as a colour picture and as its float value.
const moistureRamps = [
  [-0.8, 0x800000],
  [-0.24, 0xff0000],
  [-0.032, 0xffff00],
  [0.032, 0x00ffff],
  [0.24, 0x0000ff],
  [0.8, 0x000080]
];
const viz = new ColorRampVisualizer(moistureRamps);

function setup() {
  return {
    input: ["B8A", "B11", "dataMask"],
    output: [
      { id: "default", bands: 4 },
      { id: "index", bands: 1, sampleType: "FLOAT32" }
    ]
  };
}

function evaluatePixel(samples) {
  const val = index(samples.B8A, samples.B11);
  return {
    default: [...viz.process(val), samples.dataMask],
    index: [samples.dataMask === 1 ? val : NaN]
  };
}
