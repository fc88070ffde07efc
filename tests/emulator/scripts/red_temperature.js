//VERSION=3
// SWIR brightness on the red temperature ramp (and the deprecated gradient spelling).
const ramp = ColorRampVisualizer.createRedTemperature(0.0, 0.5);
const gradient = ColorGradientVisualizer.createRedTemperature(0.0, 0.5);

function setup() {
  return {
    input: ["B12", "dataMask"],
    output: [{ id: "default", bands: 4 }, { id: "gradient", bands: 3 }]
  };
}

function evaluatePixel(s) {
  return { default: [...ramp.process(s.B12), s.dataMask], gradient: gradient.process(s.B12) };
}
