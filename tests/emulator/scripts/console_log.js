//VERSION=3
// console.log while developing a script: what it writes shows in the emulator's log.
function setup() {
  console.log("setup called");
  return { input: ["B04", "B08"], output: { bands: 1, sampleType: "FLOAT32" } };
}

var logged = 0;
function evaluatePixel(s) {
  var ndvi = index(s.B08, s.B04);
  if (logged < 3) { console.log("ndvi", ndvi); logged++; }
  return [ndvi];
}
