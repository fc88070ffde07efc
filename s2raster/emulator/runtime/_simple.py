"""A simple script as the evalscript V3 it stands for (SIMPLE mosaicking, one output).

A simple script reads bands as global names (``B04``) and gives the pixel's values as its
last expression or with ``return``: ``return [2.5 * B04, 2.5 * B03, 2.5 * B02];``. The
Process API still accepts them and runs them through its V3 chain (docs.sentinel-hub.com/
api/latest/user-guides/transition/: "simple scripts ... are now being processed with a V3
processing chain"). The V3 setup the emulator gives them, by default as a V3 script
without options would have it:

- ``input``: the band names the script mentions (comments aside), each in its default
  units (REFLECTANCE for the spectral bands, DN for SCL and dataMask, ...);
- ``output``: one output ``default``, ``sampleType`` AUTO (0..1 stretched to 0..255),
  with as many bands as the values the script returns for a first pixel whose bands are
  all 0 (a number is one band);
- ``mosaicking``: SIMPLE.
"""

from __future__ import annotations

import json
import re

from s2raster.bands import BANDS

_NAMES = sorted({band for table in BANDS.values() for band in table}, key=len, reverse=True)
_BAND = re.compile(r"(?<![\w$.])(" + "|".join(map(re.escape, _NAMES)) + r")(?![\w$])")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)

# The body is compiled with the bands as parameters: as one expression if it is one, else
# as statements (with return), else as statements whose last value is the result (eval).
_TEMPLATE = """//VERSION=3
// The evalscript V3 the s2raster emulator runs for a simple script.
var __simple = (function (params, src) {
  try { return new Function(params, "return (" + src.replace(/;\\s*$/, "") + "\\n);"); }
  catch (e) {}
  if (/\\breturn\\b/.test(src)) {
    return new Function(params, "return (function () {\\n" + src + "\\n})();");
  }
  return new Function(params, "return eval(" + JSON.stringify(src) + ");");
})(%(params)s, %(source)s);

function __values(r) {
  if (typeof r === "number") return [r];
  if (Array.isArray(r)) return r;
  throw new Error("A simple script must give an array of numbers (or one number); got " +
                  (r === undefined ? "nothing" : JSON.stringify(r)) + ".");
}

function setup() {
  var probe = __values(__simple(%(zeros)s));
  return {
    input: [{bands: %(bands)s}],
    output: {id: "default", bands: probe.length, sampleType: "AUTO"},
    mosaicking: "SIMPLE"
  };
}

function evaluatePixel(sample) {
  return __values(__simple(%(reads)s));
}
"""


def bands_of(script: str) -> list[str]:
    """The band names ``script`` mentions outside comments, in order of first mention."""
    code = _COMMENTS.sub(" ", script)
    return list(dict.fromkeys(match.group(1) for match in _BAND.finditer(code)))


def simple_to_v3(script: str) -> str:
    """The evalscript V3 source that runs the simple ``script`` (see the module docs)."""
    bands = bands_of(script)
    return _TEMPLATE % {
        "params": json.dumps(",".join(bands)),
        "source": json.dumps(script),
        "zeros": ", ".join("0" for _ in bands),
        "bands": json.dumps(bands),
        "reads": ", ".join(f"sample.{band}" for band in bands),
    }
