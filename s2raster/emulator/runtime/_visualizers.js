// The visualizer classes and colour tables of Evalscript V3, with the semantics (and the
// example values) of the Sentinel Hub "Utilities" page (https://documentation.dataspace.
// copernicus.eu/APIs/SentinelHub/Evalscript/Utilities.html; ColorGradientVisualizer and
// DefaultVisualizer, deprecated, from .../Evalscript/Functions.html and the service's FAQ
// "Which functions can be used in Custom Script?"). Installed as _helpers.js is.
//
// Colours are 0xRRGGBB numbers or arrays of normalised values. Between two hex colours a
// ramp interpolates each 8-bit channel and rounds it (hence 0.50196 = 128/255 halfway
// from red to blue, as documented); array colours interpolate without rounding.
(function install(g) {
  "use strict";

  function fail(name, message) {
    throw new TypeError(name + ": " + message);
  }

  function isHex(c) {
    return typeof c === "number" && c === Math.floor(c) && c >= 0 && c <= 0xffffff;
  }

  function checkPairs(name, pairs) {
    if (!Array.isArray(pairs) || pairs.length === 0) {
      fail(name, "give a non-empty array of [value, color] pairs");
    }
    var width = null;
    pairs.forEach(function (pair, i) {
      var color = Array.isArray(pair) ? pair[1] : undefined;
      if (!Array.isArray(pair) || typeof pair[0] !== "number" || isNaN(pair[0])) {
        fail(name, "pair " + i + " is not [value, color] with a numeric value");
      }
      if (!isHex(color) && !(Array.isArray(color) && color.length > 0 &&
          color.every(function (v) { return typeof v === "number"; }))) {
        fail(name, "pair " + i + ": the color must be 0xRRGGBB or an array of numbers");
      }
      var n = Array.isArray(color) ? color.length : 3;
      if (width !== null && n !== width) fail(name, "all colors need the same number of values");
      width = n;
    });
  }

  function rgb255(hex) {
    return [(hex >>> 16) & 255, (hex >>> 8) & 255, hex & 255];
  }

  function normalized(color) {
    return isHex(color) ? rgb255(color).map(function (v) { return v / 255; }) : color.slice();
  }

  function blend(low, high, t) {
    if (isHex(low) && isHex(high)) {
      var a = rgb255(low), b = rgb255(high);
      return a.map(function (v, k) { return Math.round(v + (b[k] - v) * t) / 255; });
    }
    var x = normalized(low), y = normalized(high);
    return x.map(function (v, k) { return v + (y[k] - v) * t; });
  }

  // Sorted by value; minVal/maxVal (either optional) rescale the values linearly.
  function rescaled(ramps, minVal, maxVal) {
    var sorted = ramps.map(function (p) { return [p[0], p[1]]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var lo = sorted[0][0], hi = sorted[sorted.length - 1][0];
    if (minVal === undefined && maxVal === undefined) return sorted;
    var newLo = minVal === undefined ? lo : minVal;
    var newHi = maxVal === undefined ? hi : maxVal;
    var scale = hi === lo ? 0 : (newHi - newLo) / (hi - lo);
    return sorted.map(function (p) { return [newLo + (p[0] - lo) * scale, p[1]]; });
  }

  // A table of the docs (position 1 at minVal, position 0 at maxVal) as ramps.
  function fromTable(table, minVal, maxVal) {
    var lo = minVal === undefined ? 0 : minVal, hi = maxVal === undefined ? 1 : maxVal;
    return table.map(function (p) { return [lo * p[0] + hi * (1 - p[0]), p[1]]; });
  }

  class ColorRampVisualizer {
    constructor(ramps, minVal, maxVal) {
      checkPairs("ColorRampVisualizer", ramps);
      this.ramps = rescaled(ramps, minVal, maxVal);
    }
    process(value) {
      var r = this.ramps, n = r.length;
      if (value <= r[0][0]) return normalized(r[0][1]);
      for (var i = 1; i < n; i++) {
        if (value <= r[i][0]) {
          return blend(r[i - 1][1], r[i][1], (value - r[i - 1][0]) / (r[i][0] - r[i - 1][0]));
        }
      }
      return normalized(r[n - 1][1]);
    }
    inverse() {
      var colors = this.ramps.map(function (p) { return p[1]; }).reverse();
      return new ColorRampVisualizer(this.ramps.map(function (p, i) { return [p[0], colors[i]]; }));
    }
    static createRedTemperature(minVal, maxVal) {
      return new ColorRampVisualizer(fromTable(tables.redTemperature, minVal, maxVal));
    }
    static createWhiteGreen(minVal, maxVal) {
      return new ColorRampVisualizer(fromTable(tables.greenWhite, minVal, maxVal));
    }
    static createBlueRed(minVal, maxVal) {
      return new ColorRampVisualizer(fromTable(tables.blueRed, minVal, maxVal));
    }
    static createOceanColor(minVal, maxVal) {  // its table runs from 0 (low) to 1 (high)
      return new ColorRampVisualizer(tables.oceanColor, minVal === undefined ? 0 : minVal,
                                     maxVal === undefined ? 1 : maxVal);
    }
  }

  class ColorGradientVisualizer extends ColorRampVisualizer {  // deprecated
    constructor(valColPairs, minVal, maxVal) {
      checkPairs("ColorGradientVisualizer", valColPairs);
      super(fromTable(valColPairs, minVal, maxVal));
    }
    static createRedTemperature(minVal, maxVal) {
      return new ColorGradientVisualizer(tables.redTemperature, minVal, maxVal);
    }
    static createWhiteGreen(minVal, maxVal) {
      return new ColorGradientVisualizer(tables.greenWhite, minVal, maxVal);
    }
    static createBlueRed(minVal, maxVal) {
      return new ColorGradientVisualizer(tables.blueRed, minVal, maxVal);
    }
  }

  class ColorMapVisualizer {
    constructor(valColPairs) {
      checkPairs("ColorMapVisualizer", valColPairs);
      this.valColPairs = valColPairs.map(function (p) { return [p[0], p[1]]; });
    }
    process(value) {  // the colour of the last pair whose value is <= value (or the first)
      var pairs = this.valColPairs, color = pairs[0][1];
      for (var i = 0; i < pairs.length; i++) {
        if (value < pairs[i][0]) break;
        color = pairs[i][1];
      }
      return normalized(color);
    }
    static createDefaultColorMap() {
      return new ColorMapVisualizer([
        [-1.0, 0x000000], [-0.2, 0xff0000], [-0.1, 0x9a0000], [0.0, 0x660000],
        [0.1, 0xffff33], [0.2, 0xcccc33], [0.3, 0x666600], [0.4, 0x33ffff],
        [0.5, 0x33cccc], [0.6, 0x006666], [0.7, 0x33ff33], [0.8, 0x33cc33],
        [0.9, 0x006600],
      ]);
    }
  }

  function checkRange(name, minValue, maxValue) {
    if (!Number.isFinite(minValue) || !Number.isFinite(maxValue) || minValue === maxValue) {
      fail(name, "minValue and maxValue must be two different finite numbers (got " +
        minValue + ", " + maxValue + ")");
    }
  }

  // minValue -> 0, maxValue -> 1, linear (gain, offset, then gamma), clamped to [0, 1].
  class DefaultVisualizer {
    constructor(minValue = 0.0, maxValue = 1.0, gain = 1.0, offset = 0.0, gamma = 1.0) {
      checkRange(this.constructor.name, minValue, maxValue);
      this.minValue = minValue; this.maxValue = maxValue;
      this.gain = gain; this.offset = offset; this.gamma = gamma;
      this.factor = 1.0 / (maxValue - minValue);
    }
    clamp(num, min, max) {
      return Math.max(Math.min(num, max), min);
    }
    linear(val) {
      var v = this.gain * (val - this.minValue) * this.factor + this.offset;
      return this.gamma !== 1.0 ? Math.pow(Math.max(0, v), this.gamma) : v;
    }
    process(val) {
      return this.clamp(this.linear(val), 0.0, 1.0);
    }
    processList(components) {
      var self = this;
      return components.map(function (v, i) { return self.process(v, i); });
    }
  }

  // As DefaultVisualizer, but if 0 < maxValue < 1 what maps above 0.92 is compressed so
  // that maxValue gives 0.9259 and 2 * maxValue - minValue gives 1.
  class HighlightCompressVisualizer extends DefaultVisualizer {
    constructor(minValue = 0.0, maxValue = 1.0, gain = 1.0, offset = 0.0, gamma = 1.0) {
      super(minValue, maxValue, gain, offset, gamma);
      this.highlightPoint = 0.92;
      this.clipPoint = 2.0;
      this.highlightAdjust = 0 < maxValue && maxValue < 1;
      this.highlightFactor = (1.0 - this.highlightPoint) / (this.clipPoint - this.highlightPoint);
    }
    process(val) {
      var v = this.linear(val);
      if (this.highlightAdjust && v > this.highlightPoint) {
        v = this.highlightPoint + (v - this.highlightPoint) * this.highlightFactor;
      }
      return this.clamp(v, 0.0, 1.0);
    }
  }

  class HighlightCompressVisualizerSingle extends HighlightCompressVisualizer {
    process(val) {  // one value, as a one-element array (a whole output pixel)
      return [super.process(val)];
    }
    processList(components) {
      var self = this;
      return components.map(function (v) { return self.process(v)[0]; });
    }
  }

  class Identity {
    process(val) {
      return Array.isArray(val) ? val.slice() : [val];
    }
    processList(components) {
      return components.slice();
    }
  }

  var tables = {
    blueRed: [[1.0, 0x000080], [0.875, 0x0000ff], [0.625, 0x00ffff], [0.375, 0xffff00],
              [0.125, 0xff0000], [0.0, 0x800000]],
    redTemperature: [[1.0, 0x000000], [0.525, 0xae0000], [0.3, 0xff6e00], [0.25, 0xff8600],
                     [0.0, 0xffffff]],
    greenWhite: [[1.0, 0x000000], [0.6, 0x006600], [0.3, 0x80b300], [0.0, 0xffffff]],
    oceanColor: [
      [0.0, [147, 0, 108]], [0.0471, [111, 0, 144]], [0.098, [72, 0, 183]],
      [0.149, [33, 0, 222]], [0.2, [0, 10, 255]], [0.2471, [0, 74, 255]],
      [0.298, [0, 144, 255]], [0.349, [0, 213, 255]], [0.4, [0, 255, 215]],
      [0.4471, [0, 255, 119]], [0.498, [0, 255, 15]], [0.549, [96, 255, 0]],
      [0.6, [200, 255, 0]], [0.6471, [255, 235, 0]], [0.698, [255, 183, 0]],
      [0.749, [255, 131, 0]], [0.8, [255, 79, 0]], [0.8471, [255, 31, 0]],
      [0.898, [230, 0, 0]], [0.949, [165, 0, 0]], [1.0, [105, 0, 0]],
    ].map(function (p) { return [p[0], p[1].map(function (v) { return v / 255; })]; }),
  };
  var classes = {
    ColorRampVisualizer: ColorRampVisualizer,
    ColorGradientVisualizer: ColorGradientVisualizer,
    ColorMapVisualizer: ColorMapVisualizer,
    DefaultVisualizer: DefaultVisualizer,
    HighlightCompressVisualizer: HighlightCompressVisualizer,
    HighlightCompressVisualizerSingle: HighlightCompressVisualizerSingle,
    Identity: Identity,
  };
  [tables, classes].forEach(function (names) {
    Object.keys(names).forEach(function (name) {
      Object.defineProperty(g, name, {value: names[name], writable: true, configurable: true});
    });
  });
})
