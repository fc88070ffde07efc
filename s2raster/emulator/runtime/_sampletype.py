"""Evalscript ``sampleType``: from the numbers evaluatePixel returns to the output raster.

As the Process API documents it: ``AUTO`` stretches [0, 1] to UINT8 0..255 (value * 255),
integer types round to the nearest integer and clamp to their range, ``FLOAT32`` is written
as is. Rounding is Java's ``Math.round`` (``floor(x + 0.5)``: halves go up), the service
being a Java one; NaN becomes 0 and infinities clamp to the ends of the range.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Every sampleType the service knows, the default first.
SAMPLE_TYPES = ("AUTO", "UINT8", "UINT16", "INT8", "INT16", "FLOAT32")

_DTYPES: dict[str, type[np.generic]] = {
    "AUTO": np.uint8,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "INT8": np.int8,
    "INT16": np.int16,
    "FLOAT32": np.float32,
}


def check_sample_type(sample_type: str) -> str:
    """The canonical spelling of ``sample_type``, or ``ValueError`` naming the valid ones."""
    name = str(sample_type).upper()
    if name not in _DTYPES:
        raise ValueError(
            f"unknown sampleType {sample_type!r}; use one of: {', '.join(SAMPLE_TYPES)}"
        )
    return name


def dtype_of(sample_type: str) -> np.dtype[np.generic]:
    """The numpy dtype of the raster written for ``sample_type``."""
    return np.dtype(_DTYPES[check_sample_type(sample_type)])


def convert(values: npt.ArrayLike, sample_type: str) -> npt.NDArray[np.generic]:
    """Turn evaluatePixel's values into the raster values of ``sample_type``.

    ``values`` are float32 or float64 (float64 keeps rounding exact at .5); the result has
    the dtype of :func:`dtype_of` and the shape of ``values``.
    """
    name = check_sample_type(sample_type)
    dtype = np.dtype(_DTYPES[name])
    arr = np.asarray(values)
    if name == "FLOAT32":
        return arr.astype(np.float32, copy=False)
    work = np.array(arr, dtype=np.float64, copy=True)
    info = np.iinfo(dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values clamp anyway
        if name == "AUTO":
            work *= 255.0
        work += 0.5
        np.floor(work, out=work)
    np.nan_to_num(work, copy=False, nan=0.0)
    np.clip(work, info.min, info.max, out=work)
    return work.astype(dtype)
