"""``output`` of a Process API request: image size (width/height or resx/resy) and responses.

The service's limits: 1..2500 px a side (also when derived from resx/resy, rounded), at
most 1500 m per pixel for Sentinel-2, exactly one of width/height or resx/resy; wordings
as quoted in :mod:`s2raster.emulator.request._validate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from s2raster.contract import MAX_PX, MAX_RESOLUTION_M
from s2raster.emulator.request._apierror import ApiError, bad_payload
from s2raster.emulator.request._bounds import (
    Bounds,
    get_enum,
    get_number,
    get_object,
    is_number,
    metres_per_unit,
)

DEFAULT_PX = 256
MIMES = ("image/tiff", "image/png", "image/jpeg", "application/json")
#: The service's short names of the collections (as in its error messages).
SHORT_NAMES = {"sentinel-2-l2a": "S2L2A", "sentinel-2-l1c": "S2L1C"}


@dataclass(frozen=True)
class OutputResponse:
    """One entry of ``output.responses``: evalscript output id and file format."""

    identifier: str
    mime: str


def output_size(output: dict[str, Any], bounds: Bounds, collection: str) -> tuple[int, int]:
    """(width, height) of the image, checked against the pixel and metres-per-pixel limits."""
    width, height = _output_size(output, bounds)
    _check_metres_per_pixel(bounds, width, height, collection)
    return width, height


def _output_size(output: dict[str, Any], bounds: Bounds) -> tuple[int, int]:
    has_size = "width" in output or "height" in output
    has_res = "resx" in output or "resy" in output
    if has_size and has_res:
        raise bad_payload("Only width and height or resx and resy can be set at the same time.")
    minx, miny, maxx, maxy = bounds.bbox
    extent_x, extent_y = maxx - minx, maxy - miny
    if has_res:
        return _size_from_res(output, "resx", "width", extent_x), _size_from_res(
            output, "resy", "height", extent_y
        )
    width = _pixels(output, "width")
    height = _pixels(output, "height")
    if width is None and height is None:
        return DEFAULT_PX, DEFAULT_PX
    if (width is None or height is None) and not (extent_x > 0 and extent_y > 0):
        raise bad_payload(
            "The bbox has no area, so its aspect cannot give the other side: set both "
            "output.width and output.height.",
            "output->width" if width is None else "output->height",
        )
    if height is None:
        assert width is not None
        height = _check_px("height", _round(width * extent_y / extent_x), "output->width", "")
    if width is None:
        width = _check_px("width", _round(height * extent_x / extent_y), "output->height", "")
    return width, height


def _pixels(output: dict[str, Any], key: str) -> int | None:
    value = output.get(key)
    if value is None:
        return None
    if not is_number(value) or not float(value).is_integer():
        raise bad_payload(f"{key} must be an integer, got {value!r}.", f"output->{key}")
    return _check_px(key, int(value), f"output->{key}", "")


def _size_from_res(output: dict[str, Any], res_key: str, size_key: str, extent: float) -> int:
    value = output.get(res_key)
    if value is None:
        raise bad_payload(
            "Both resx and resy must be set (or width and height).", f"output->{res_key}"
        )
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise bad_payload(
            f"{res_key} must be a positive number, got {value!r}.", f"output->{res_key}"
        )
    size = _round(extent / float(value))
    return _check_px(size_key, size, f"output->{res_key}", f", calculated from {res_key},")


def _round(value: float) -> int:
    """Round half up (the size derived from a resolution)."""
    return math.floor(value + 0.5)


def _check_px(name: str, size: int, parameter: str, origin: str) -> int:
    if size > MAX_PX:
        violation = f"`{name} = {size}`{origin} is larger than allowed {MAX_PX}."
        raise bad_payload(violation + "\n", parameter, violation)
    if size < 1:
        violation = f"`{name} = {size}`{origin} is smaller than allowed 1."
        raise bad_payload(violation + "\n", parameter, violation)
    return size


def _check_metres_per_pixel(bounds: Bounds, width: int, height: int, collection: str) -> None:
    minx, miny, maxx, maxy = bounds.bbox
    factor = metres_per_unit(bounds.crs)
    mpp = max((maxx - minx) / width, (maxy - miny) / height) * factor
    if mpp > MAX_RESOLUTION_M:
        raise ApiError(
            400,
            "COMMON_EXCEPTION",
            f"Your request of {mpp:.2f} meters per pixel exceeds the limit "
            f"{MAX_RESOLUTION_M:.2f} meters per pixel of the collection "
            f"{SHORT_NAMES[collection]}. Please revise the resolution (or corresponding "
            "width/height) to make sure it is in supported range.",
        )


def responses(value: Any) -> tuple[OutputResponse, ...]:
    """``output.responses`` (default: one PNG called ``default``)."""
    path = "output->responses"
    if value is None or value == []:
        return (OutputResponse("default", "image/png"),)
    if not isinstance(value, list):
        raise bad_payload("output.responses must be an array.", path)
    responses = tuple(_response(item) for item in value)
    ids = [r.identifier for r in responses]
    if len(set(ids)) != len(ids):
        raise bad_payload(f"output.responses has duplicate identifiers: {ids}.", path)
    return responses


def _response(item: Any) -> OutputResponse:
    path = "output->responses"
    if not isinstance(item, dict):
        raise bad_payload("Each output.responses entry must be a JSON object.", path)
    identifier = item.get("identifier", "default")
    if not isinstance(identifier, str) or not identifier:
        raise bad_payload(f"Response identifier must be a string, got {identifier!r}.", path)
    fmt = get_object(item, "format", "output.responses.format", required=False)
    mime = get_enum(fmt, "type", "output.responses.format.type", MIMES, "image/png")
    quality = get_number(fmt, "quality", "output.responses.format.quality", 0, 100)
    if quality is not None and not quality.is_integer():
        raise bad_payload(f"JPEG quality must be an integer, got {quality}.", path)
    if (identifier == "userdata") != (mime == "application/json"):
        raise bad_payload(
            f"Response {identifier!r} with format {mime}: application/json is the format of "
            "the 'userdata' response only, and 'userdata' must be application/json.",
            path,
        )
    return OutputResponse(identifier, mime)
