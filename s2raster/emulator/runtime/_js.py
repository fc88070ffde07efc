"""The JavaScript the runtime puts around an evalscript (as strings; no engine here).

``prelude(limit)`` installs ``SampleType`` and ``Mosaicking`` and a meter on typed-array
allocations (their
memory lives outside V8's heap, so the heap limit alone would not stop them). It evaluates
to the runtime's own allocator, ``alloc(name, index, kind, size)``: the unmetered
constructors stay in its closure, reachable from Python (which holds the function) but
from no global a script could read. ``library()`` then installs the documented utility
functions and visualizers (``_helpers.js``, ``_visualizers.js``) and ``console``, whose
lines ``CONSOLE_JSON`` hands over.
``driver(...)`` generates the per-pixel loop: it builds each sample object with literal
band properties (one hidden class, fast in V8), calls ``evaluatePixel`` and writes the
returned values into output typed arrays that Python reads without copying.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources

#: The internal namespace object the runtime keeps its state in (inside the engine).
NS = "__s2r"

_PRELUDE = """
(function (g, limit) {
  g.SampleType = {AUTO: "AUTO", UINT8: "UINT8", UINT16: "UINT16", INT8: "INT8",
                  INT16: "INT16", FLOAT32: "FLOAT32"};
  g.Mosaicking = {SIMPLE: "SIMPLE", ORBIT: "ORBIT", TILE: "TILE"};
  delete g.WebAssembly;
  delete g.SharedArrayBuffer;
  var RAW = {F32: g.Float32Array, F64: g.Float64Array};  // unmetered: closure only
  var S = {failure: null};
  S.fail = function (message) { S.failure = message; throw new Error(message); };
  Object.defineProperty(g, "%(ns)s", {value: S, enumerable: false});
  var used = 0, ABuf = g.ArrayBuffer;
  function charge(bytes) {
    if (!(bytes > 64)) return;  // small typed arrays live on V8's heap, under its limit
    used += bytes;
    if (used > limit) {
      throw new RangeError("Evalscript memory limit reached: typed arrays of more than " +
        Math.round(limit / 1048576) + " MiB allocated");
    }
  }
  function viewBytes(args, bpe) {
    var a = args[0];
    if (typeof a === "number") return a * bpe;
    if (a === null || typeof a !== "object" || a instanceof ABuf) return 0;
    return typeof a.length === "number" ? a.length * bpe : 0;
  }
  function bufferBytes(args) {
    var o = args[1];
    return Math.max(Number(args[0]) || 0, (o && Number(o.maxByteLength)) || 0);
  }
  function guard(C, sizer) {
    var P = new Proxy(C, {construct: function (t, args, nt) {
      charge(sizer(args, C.BYTES_PER_ELEMENT || 1));
      return Reflect.construct(t, args, nt === P ? t : nt);
    }});
    Object.defineProperty(C.prototype, "constructor",
                          {value: P, writable: true, configurable: true});
    return P;
  }
  ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
   "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array",
   "BigUint64Array", "Float16Array"].forEach(function (name) {
    if (typeof g[name] === "function") g[name] = guard(g[name], viewBytes);
  });
  ["transfer", "transferToFixedLength"].forEach(function (name) {
    var f = ABuf.prototype[name];
    if (typeof f !== "function") return;
    ABuf.prototype[name] = function (n) {
      charge(n === undefined ? this.byteLength : Number(n));
      return f.call(this, n);
    };
  });
  g.ArrayBuffer = guard(ABuf, bufferBytes);
  return function alloc(name, index, kind, size) {
    var list = S[name] || (S[name] = []);
    return (list[index] = new RAW[kind](size));
  };
})(globalThis, %(limit)d)
"""

#: Runs setup() and hands its result over as JSON (non-finite nodataValue as a string).
SETUP_JSON = """
(function () {
  var s = setup();
  if (s && s.output) {
    (Array.isArray(s.output) ? s.output : [s.output]).forEach(function (o) {
      if (o && typeof o.nodataValue === "number" && !isFinite(o.nodataValue)) {
        o.nodataValue = String(o.nodataValue);
      }
    });
  }
  return JSON.stringify(s === undefined ? null : s);
})()
"""


def prelude(limit_bytes: int) -> str:
    """The globals and the typed-array meter (``limit_bytes`` of allocations in all); the
    code evaluates to the runtime's allocator (see the module docstring)."""
    return _PRELUDE % {"ns": NS, "limit": int(limit_bytes)}


#: What the script wrote with console.log (at most 200 lines), and how many lines more.
CONSOLE_JSON = f"JSON.stringify({NS}.console())"
#: The library files, in the order they are installed.
LIBRARY = ("_helpers.js", "_visualizers.js")


@cache
def library() -> str:
    """The code installing the utility functions, visualizers and ``console`` (run it after
    :func:`prelude`): each file is a function expression called with the global object
    and the runtime's namespace object."""
    parts = []
    for name in LIBRARY:
        source = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        parts.append(f"({source})(globalThis, {NS});")
    return "\n".join(parts) + "\n0\n//# sourceURL=utilities.js\n"


def function_check(names: Sequence[str]) -> str:
    """An expression giving the JSON list of the ``typeof`` of each of ``names``.

    ``typeof name`` (not ``globalThis[name]``) also sees top-level ``let``/``const``.
    """
    return "JSON.stringify([" + ", ".join(f"typeof {n}" for n in names) + "])"


def literal(value: object) -> str:
    """``value`` as a JavaScript literal (via JSON)."""
    return json.dumps(value, separators=(",", ":"))  # NaN, Infinity: JS globals too
