"""Which kind of script the Process API was given, as the service tells them apart.

- Evalscript V3: a ``//VERSION=3`` line before any code (comments and blank lines may come
  first, as in many shared scripts: title, author, licence). Text after the version
  number on that line is allowed (``//VERSION=3 (auto-converted from 1)``).
- Evalscript V1/V2: ``//VERSION=1`` or ``//VERSION=2``, or no version line and a
  ``setup``/``evaluatePixel`` of their own. The service no longer runs them (it stopped in
  November 2020, docs.sentinel-hub.com/api/latest/user-guides/transition/); they are
  refused with a 400 saying how to convert.
- A simple script: anything else, an expression or statements over band names that
  return the pixel's values. The service still runs these through its V3 processing
  chain; :mod:`._simple` writes the V3 script it stands for.
"""

from __future__ import annotations

import re

from s2raster.emulator.errors import EvalscriptError
from s2raster.emulator.runtime._simple import simple_to_v3

_VERSION = re.compile(r"//[ \t]*VERSION[ \t]*=[ \t]*(\d+)", re.IGNORECASE)
_LEADING = re.compile(r"\s*(//[^\n]*|/\*.*?\*/)", re.DOTALL)
_OWN_FUNCTIONS = re.compile(
    r"\bfunction\s+(setup|evaluatePixel)\s*\(|\b(setup|evaluatePixel)\s*=\s*(function\b|\()"
)
_V1_CALLS = re.compile(r"\b(setInputComponents|setOutputComponentCount)\s*\(")
_CONVERT = (
    "Convert it to evalscript V3: start it with //VERSION=3, return {input: [...], output: "
    "{bands: n}} from setup() and read the bands as sample.B04 in evaluatePixel(sample)."
)


def version_line(evalscript: str) -> int | None:
    """The version of a ``//VERSION=n`` line among the leading comments, else None."""
    position = 0
    while match := _LEADING.match(evalscript, position):
        found = _VERSION.match(match.group(1))
        if found:
            return int(found.group(1))
        position = match.end()
    return None


def as_v3(evalscript: str) -> str:
    """The evalscript V3 to run for ``evalscript``: itself if it is V3, the V3 form of a
    simple script; :class:`EvalscriptError` (a 400) for V1/V2 or a misplaced version line."""
    version = version_line(evalscript)
    if version == 3:
        return evalscript
    if version is not None:
        raise EvalscriptError(
            f"Invalid script! The script is an evalscript V{version} (//VERSION={version}): "
            f"evalscript V1/V2 are no longer supported. {_CONVERT}"
        )
    if _VERSION.search(evalscript):
        raise EvalscriptError(
            "Invalid script! The //VERSION=3 line must come before any code (only comments "
            "and blank lines may precede it)."
        )
    if _V1_CALLS.search(evalscript):
        raise EvalscriptError(
            "Invalid script! setInputComponents()/setOutputComponentCount() belong to "
            f"evalscript V1/V2, which are no longer supported. {_CONVERT}"
        )
    if _OWN_FUNCTIONS.search(evalscript):
        raise EvalscriptError(
            "Invalid script! The script defines setup()/evaluatePixel() but has no "
            "//VERSION=3 line before its code, so it reads as an evalscript V1/V2, which are "
            "no longer supported. Start the script with //VERSION=3."
        )
    return simple_to_v3(evalscript)
