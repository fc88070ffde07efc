// The helper functions of Evalscript V3, with the semantics the Sentinel Hub documentation
// gives them: "Utility Functions" (https://documentation.dataspace.copernicus.eu/APIs/
// SentinelHub/Evalscript/Functions.html) and "Utilities" (.../Evalscript/Utilities.html).
//
// The file is one function expression, installed by the runtime before the script runs:
// (source)(globalThis, state). Every helper becomes a configurable property of the global
// object, so a script may redefine any of them (function, var, let, const or class).
// Helpers never hand out their own arrays: a script may push to what they return.
// NaN falls through every comparison, so it maps to the last value of a table, as the
// service's table helpers do. `state.console()` gives what console.log wrote.
(function install(g, state) {
  "use strict";
  var JAVA_DOUBLE_MAX_VAL = 1.7976931348623157e308;
  var LOG_LINES = 200;
  var LOG_WIDTH = 1000;

  function fail(name, message) {
    throw new TypeError(name + ": " + message);
  }

  function copy(value) {
    return Array.isArray(value) ? value.slice() : value;
  }

  function index(x, y) {
    var sum = x + y;
    return sum === 0 ? 0 : (x - y) / sum;
  }

  function inverse(x) {
    return x === 0 ? JAVA_DOUBLE_MAX_VAL : 1 / x;
  }

  function combine(color1, color2, alpha) {
    if (!Array.isArray(color1) || !Array.isArray(color2) || color1.length !== color2.length) {
      fail("combine", "color1 and color2 must be arrays of the same length");
    }
    return color1.map(function (v, i) { return alpha * v + (1 - alpha) * color2[i]; });
  }

  function int2rgb(color) {
    return [(color >> 16) & 255, (color >> 8) & 255, color & 255];
  }

  function rgb2int(color) {
    return (color[0] << 16) + (color[1] << 8) + color[2];
  }

  function normalizeRGB(rgb255Array) {
    if (!Array.isArray(rgb255Array)) fail("normalizeRGB", "give an array of 0..255 values");
    return rgb255Array.map(function (v) { return v / 255; });
  }

  function checkTable(name, intervals, values) {
    if (intervals.length === 0 || values.length !== intervals.length) {
      fail(name, "intervals and values must be non-empty arrays of the same length (got " +
        intervals.length + " and " + values.length + ")");
    }
  }

  // (-inf, i0] -> v0, (i0, i1] -> v1, ..., (i(n-2), +inf) -> v(n-1).
  function valueMap(value, intervals, values) {
    if (!Array.isArray(intervals) || !Array.isArray(values)) return value;
    checkTable("valueMap", intervals, values);
    for (var i = 0; i < intervals.length; i++) {
      if (value <= intervals[i]) return copy(values[i]);
    }
    return copy(values[values.length - 1]);
  }

  function mix(name, low, high, t) {
    if (typeof low === "number" && typeof high === "number") return low + (high - low) * t;
    if (!Array.isArray(low) || !Array.isArray(high) || low.length !== high.length) {
      fail(name, "values must be numbers or arrays of numbers of one length");
    }
    return low.map(function (v, k) { return v + (high[k] - v) * t; });
  }

  // Linear between the points, clamped to the first/last value beyond them.
  function interpolate(name, value, intervals, values) {
    if (!Array.isArray(intervals) || !Array.isArray(values)) return value;
    checkTable(name, intervals, values);
    if (value <= intervals[0]) return copy(values[0]);
    for (var i = 1; i < intervals.length; i++) {
      if (value <= intervals[i]) {
        var low = intervals[i - 1];
        return mix(name, values[i - 1], values[i], (value - low) / (intervals[i] - low));
      }
    }
    return copy(values[values.length - 1]);
  }

  function valueInterpolate(value, intervals, values) {
    return interpolate("valueInterpolate", value, intervals, values);
  }

  function colorBlend(value, limits, colors) {  // deprecated: valueInterpolate
    return interpolate("colorBlend", value, limits, colors);
  }

  function gone(name, instead) {
    return function () {
      throw new Error("Invalid script! " + name + "() is a function of evalscript V1/V2, " +
        "which are no longer supported; " + instead);
    };
  }

  var lines = [];
  var dropped = 0;
  function show(value) {
    if (typeof value === "string") return value;
    try {
      var text = JSON.stringify(value);
      return text === undefined ? String(value) : text;
    } catch (e) {
      return String(value);
    }
  }
  function log() {
    if (lines.length >= LOG_LINES) { dropped++; return; }
    var line = Array.prototype.map.call(arguments, show).join(" ");
    lines.push(line.length > LOG_WIDTH ? line.slice(0, LOG_WIDTH) + "..." : line);
  }
  state.console = function () { return {lines: lines.slice(), dropped: dropped}; };

  var helpers = {
    JAVA_DOUBLE_MAX_VAL: JAVA_DOUBLE_MAX_VAL,
    index: index,
    inverse: inverse,
    combine: combine,
    int2rgb: int2rgb,
    rgb2int: rgb2int,
    normalizeRGB: normalizeRGB,
    valueMap: valueMap,
    valueInterpolate: valueInterpolate,
    colorBlend: colorBlend,
    setInputComponents: gone("setInputComponents",
      "return {input: [...], output: {...}} from setup() of an evalscript V3 (//VERSION=3)."),
    setOutputComponentCount: gone("setOutputComponentCount",
      "give output: {bands: n} in setup() of an evalscript V3 (//VERSION=3)."),
    console: {log: log, info: log, warn: log, error: log, debug: log, trace: log},
  };
  Object.keys(helpers).forEach(function (name) {
    Object.defineProperty(g, name, {value: helpers[name], writable: true, configurable: true});
  });
})
