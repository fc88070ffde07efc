//VERSION=3
// NDVI on a brown-to-green colour ramp, the most common visualisation there is.
const ramp = [
  [-0.2, 0x0c0c0c],
  [0.0, 0xbfbfbf],
  [0.1, 0xdbdbdb],
  [0.2, 0xeaeaea],
  [0.3, 0xccc682],
  [0.4, 0x91bf51],
  [0.5, 0x70a33f],
  [0.6, 0x4f892d],
  [0.7, 0x306d1c],
  [0.8, 0x0f540a],
  [0.9, 0x004400]
];
const visualizer = new ColorRampVisualizer(ramp);

function setup() {
  return {
    input: ["B04", "B08", "dataMask"],
    output: { bands: 4 }
  };
}

function evaluatePixel(sample) {
  const ndvi = index(sample.B08, sample.B04);
  const rgb = visualizer.process(ndvi);
  rgb.push(sample.dataMask);
  return rgb;
}
