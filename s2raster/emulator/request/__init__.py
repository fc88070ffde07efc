"""Process API requests as the service reads them: parsing, validation, error shapes.

:func:`parse_body` reads a JSON or multipart body, :func:`validate` checks it into a
:class:`ProcessRequest` (or raises the service's 400 as an :class:`ApiError`), and the
``bad_payload``/``unauthorized``/... builders make the service's JSON errors.
"""

from __future__ import annotations

from s2raster.emulator.request._apierror import (
    ApiError,
    bad_payload,
    method_not_allowed,
    not_found,
    rate_limited,
    unauthorized,
)
from s2raster.emulator.request._bounds import Bounds, geometry_bounds, is_number, parse_bounds
from s2raster.emulator.request._multipart import MAX_PARTS
from s2raster.emulator.request._validate import (
    ARCHIVE_START,
    COLLECTIONS,
    ProcessRequest,
    parse_body,
    parse_datetime,
    validate,
)

__all__ = [
    "ARCHIVE_START",
    "COLLECTIONS",
    "MAX_PARTS",
    "ApiError",
    "Bounds",
    "ProcessRequest",
    "bad_payload",
    "geometry_bounds",
    "is_number",
    "method_not_allowed",
    "not_found",
    "parse_body",
    "parse_bounds",
    "parse_datetime",
    "rate_limited",
    "unauthorized",
    "validate",
]
