"""The tags an exported file carries: plain attrs, provenance and the synthetic mark for the
dataset; per band, the coordinates along ``band`` (an index stack's ``formula``).

Used by the write side (:mod:`s2raster.cog`, :mod:`s2raster.truecolor`); credential-like
keys never become tags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from s2raster.contract import SOURCE_TAG, SYNTHETIC_DESCRIPTION, SYNTHETIC_SOURCE, SYNTHETIC_TAG

_SECRET_KEY = re.compile(r"secret|token|passw|credential|client_?id|api_?key|auth|cookie", re.I)
_TAG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


def export_tags(attrs: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Dataset tags for a file: plain ``attrs`` and ``extra`` values, never credential-like
    keys, ``TIFFTAG_SOFTWARE``, and the synthetic mark when ``attrs["synthetic"] == 1``."""
    from s2raster._version import __version__

    tags = {"TIFFTAG_SOFTWARE": f"s2raster {__version__}"}
    for key, value in {**attrs, **(extra or {})}.items():
        text = _plain(value)
        if text is None or _SECRET_KEY.search(str(key)):
            continue
        if _TAG_KEY.match(str(key)):
            tags[str(key)] = text
    if _plain(attrs.get("synthetic", 0)) == "1":
        source = str(attrs.get("source", ""))
        tags[SYNTHETIC_TAG] = "1"
        tags[SOURCE_TAG] = source if "synthetic" in source else SYNTHETIC_SOURCE
        tags["TIFFTAG_IMAGEDESCRIPTION"] = SYNTHETIC_DESCRIPTION
    return tags


def band_tags(da: xr.DataArray) -> list[dict[str, str]]:
    """Tags of each band of ``da``: the plain values of its coordinates along ``band`` (other
    than ``band`` itself), e.g. the ``formula`` of each index of
    :func:`s2raster.indices.stack`; never credential-like keys."""
    if "band" not in da.dims:
        return []
    out: list[dict[str, str]] = [{} for _ in range(da.sizes["band"])]
    for key, coord in da.coords.items():
        if key == "band" or coord.dims != ("band",) or not _TAG_KEY.match(str(key)):
            continue
        if _SECRET_KEY.search(str(key)):
            continue
        for i, value in enumerate(coord.values.tolist()):
            text = _plain(value)
            if text is not None:
                out[i][str(key)] = text
    return out


def _plain(value: Any) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return str(value)
    return None
