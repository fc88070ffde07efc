//VERSION=3
// A mistake the service refuses: SCL has DN units only.
function setup() {
  return {
    input: [{ bands: ["B04", "SCL"], units: "REFLECTANCE" }],
    output: { bands: 1 }
  };
}

function evaluatePixel(s) {
  return [s.SCL === 4 ? s.B04 : 0];
}
