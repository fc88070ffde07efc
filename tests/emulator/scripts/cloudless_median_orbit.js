//VERSION=3
// A cloudless mosaic: per pixel, the median of the samples the scene classification calls
// clear (no cloud, shadow, cirrus, snow), in DN.
var CLOUDY = [1, 3, 8, 9, 10, 11];

function setup() {
  return {
    input: [{ bands: ["B02", "B03", "B04", "B08", "SCL", "dataMask"], units: "DN" }],
    output: { bands: 4, sampleType: SampleType.UINT16 },
    mosaicking: "ORBIT"
  };
}

function median(values) {
  values.sort(function (a, b) { return a - b; });
  var mid = Math.floor(values.length / 2);
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

function evaluatePixel(samples) {
  var bands = [[], [], [], []];
  for (var i = 0; i < samples.length; i++) {
    var s = samples[i];
    if (s.dataMask !== 1 || CLOUDY.indexOf(s.SCL) >= 0) continue;
    bands[0].push(s.B04); bands[1].push(s.B03); bands[2].push(s.B02); bands[3].push(s.B08);
  }
  if (bands[0].length === 0) return [0, 0, 0, 0];
  return bands.map(median);
}
