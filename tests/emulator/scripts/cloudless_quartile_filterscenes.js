//VERSION=3
// The older filterScenes(scenes, inputMetadata) hook, still used by public mosaics:
// keep the scenes of the last 60 days of the request, then take the first quartile.
function setup() {
  return {
    input: [{ bands: ["B02", "B03", "B04", "SCL"], units: "DN" }],
    output: { bands: 3, sampleType: "UINT16" },
    mosaicking: "ORBIT"
  };
}

function filterScenes(scenes, inputMetadata) {
  return scenes.filter(function (scene) {
    return scene.date.getTime() >= inputMetadata.to.getTime() - 60 * 24 * 3600 * 1000;
  });
}

function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = { orbits: scenes.orbits.length };
}

function firstQuartile(values) {
  values.sort(function (a, b) { return a - b; });
  return values[Math.floor(values.length / 4)];
}

function evaluatePixel(samples, scenes) {
  var r = [], g = [], b = [];
  samples.forEach(function (s) {
    if ([3, 8, 9, 10].indexOf(s.SCL) >= 0) return;
    r.push(s.B04); g.push(s.B03); b.push(s.B02);
  });
  if (!r.length) return [0, 0, 0];
  return [firstQuartile(r), firstQuartile(g), firstQuartile(b)];
}
