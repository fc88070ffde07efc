// An evalscript V1: setInputComponents / setOutputComponentCount are gone.
function setup(ds) {
  setInputComponents([ds.B02, ds.B03, ds.B04]);
  setOutputComponentCount(3);
}

function evaluatePixel(samples, scenes) {
  return [2.5 * samples[0].B04, 2.5 * samples[0].B03, 2.5 * samples[0].B02];
}
