//VERSION=3
// One NDVI band per month: ORBIT mosaicking, preProcessScenes keeps the first orbit of
// each month, updateOutput sizes the output to the orbits kept.
function setup() {
  return {
    input: ["B04", "B08", "dataMask"],
    output: { id: "default", bands: 1, sampleType: "INT16" },
    mosaicking: Mosaicking.ORBIT
  };
}

function preProcessScenes(collections) {
  collections.scenes.orbits.sort(function (a, b) {
    return new Date(a.dateFrom) - new Date(b.dateFrom);
  });
  var seen = {};
  collections.scenes.orbits = collections.scenes.orbits.filter(function (orbit) {
    var month = orbit.dateFrom.slice(0, 7);
    if (seen[month]) return false;
    seen[month] = true;
    return true;
  });
  return collections;
}

function updateOutput(outputs, collection) {
  outputs.default.bands = collection.scenes.length;
}

function evaluatePixel(samples) {
  return samples.map(function (s) {
    return s.dataMask === 1 ? 10000 * index(s.B08, s.B04) : -32768;
  });
}
