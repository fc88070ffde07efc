//VERSION=3
// NDVI classes with the service's default discrete colour map.
var viz = ColorMapVisualizer.createDefaultColorMap();

function setup() {
  return { input: ["B04", "B08", "dataMask"], output: { bands: 4 } };
}

function evaluatePixel(samples) {
  var val = index(samples.B08, samples.B04);
  return viz.process(val).concat(samples.dataMask);
}
