//VERSION=3
// A change picture from three dates: the NDVI of the oldest, middle and newest orbits
// as red, green and blue.
function setup() {
  return {
    input: ["B04", "B08", "dataMask"],
    output: { bands: 3 },
    mosaicking: "ORBIT"
  };
}

function preProcessScenes(collections) {
  var orbits = collections.scenes.orbits.slice().sort(function (a, b) {
    return a.dateFrom < b.dateFrom ? -1 : 1;
  });
  var n = orbits.length;
  collections.scenes.orbits = n < 3 ? orbits : [orbits[0], orbits[Math.floor(n / 2)], orbits[n - 1]];
  return collections;
}

function evaluatePixel(samples, scenes) {
  var out = [0, 0, 0];
  for (var i = 0; i < Math.min(3, samples.length); i++) {
    out[i] = samples[i].dataMask ? index(samples[i].B08, samples[i].B04) : 0;
  }
  return out;
}
