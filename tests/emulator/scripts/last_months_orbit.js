//VERSION=3
// preProcessScenes with collections.to: only the orbits of the last 30 days of the
// request; the maximum NDVI over them.
function setup() {
  return {
    input: ["B04", "B08", "dataMask"],
    output: { bands: 1, sampleType: "FLOAT32" },
    mosaicking: "ORBIT"
  };
}

function preProcessScenes(collections) {
  var since = collections.to.getTime() - 30 * 24 * 3600 * 1000;
  collections.scenes.orbits = collections.scenes.orbits.filter(function (orbit) {
    return new Date(orbit.dateFrom).getTime() >= since;
  });
  return collections;
}

function evaluatePixel(samples) {
  var best = -1;
  samples.forEach(function (s) {
    if (s.dataMask === 1) best = Math.max(best, index(s.B08, s.B04));
  });
  return [best];
}
