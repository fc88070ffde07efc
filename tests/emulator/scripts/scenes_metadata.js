//VERSION=3
// Scene metadata to userdata.json: the orbits used (dates, tiles) and inputMetadata.
function setup() {
  return {
    input: ["B02", "dataMask"],
    mosaicking: Mosaicking.ORBIT,
    output: { id: "default", bands: 1 }
  };
}

function evaluatePixel(samples) {
  var sum = 0, n = 0;
  for (var i = 0; i < samples.length; i++) {
    if (samples[i].dataMask == 1) { sum += samples[i].B02; n++; }
  }
  return [n ? 2.5 * sum / n : 0];
}

function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = {
    inputMetadata: inputMetadata,
    dates: scenes.orbits.map(function (o) { return o.dateFrom; }),
    tiles: scenes.orbits.map(function (o) { return o.tiles.length; }),
    first: scenes.orbits[0]
  };
}
