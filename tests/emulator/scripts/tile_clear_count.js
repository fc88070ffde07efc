//VERSION=3
// TILE mosaicking: drop the cloudy tiles by their metadata, count the clear samples left.
function setup() {
  return {
    input: [{ bands: ["SCL", "dataMask"] }],
    output: { bands: 1, sampleType: "UINT8" },
    mosaicking: Mosaicking.TILE
  };
}

function preProcessScenes(collections) {
  collections.scenes.tiles = collections.scenes.tiles.filter(function (tile) {
    return tile.cloudCoverage <= 50;
  });
  return collections;
}

function evaluatePixel(samples, scenes) {
  var clear = 0;
  for (var i = 0; i < samples.length; i++) {
    if (samples[i].dataMask === 1 && [4, 5, 6].indexOf(samples[i].SCL) >= 0) clear++;
  }
  return [clear];
}
