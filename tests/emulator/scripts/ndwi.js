//VERSION=3
// NDWI (green, NIR): white-to-green on land, white-to-blue on water.
const landRamp = [[0, 0xffffff], [1, 0x008000]];
const waterRamp = [[0, 0xffffff], [1, 0x0000cc]];
const land = new ColorRampVisualizer(landRamp);
const water = new ColorRampVisualizer(waterRamp);

function setup() {
  return {
    input: ["B03", "B08", "dataMask"],
    output: [
      { id: "default", bands: 4 },
      { id: "index", bands: 1, sampleType: "FLOAT32" },
      { id: "dataMask", bands: 1 }
    ]
  };
}

function evaluatePixel(samples) {
  const val = index(samples.B03, samples.B08);
  const rgb = val < 0 ? land.process(-val) : water.process(Math.sqrt(Math.sqrt(val)));
  return {
    default: rgb.concat(samples.dataMask),
    index: [val],
    dataMask: [samples.dataMask]
  };
}
