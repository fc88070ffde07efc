//VERSION=2
function setup(ds) {
  return {
    components: [ds.B02, ds.B03, ds.B04],
    output: [{ name: "default", sampleType: "AUTO", componentCount: 3 }]
  };
}

function evaluatePixel(samples, scenes) {
  return { default: [samples[0].B04, samples[0].B03, samples[0].B02] };
}
