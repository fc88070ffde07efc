"""The one error hierarchy of s2raster.

Every error the package raises on purpose is an :class:`S2RasterError`. Where a built-in
exception fits, the class inherits it as well (as rasterio does), so ``except ValueError``
still catches a bad argument and ``except OSError`` a failed download or write.

Messages say what was wrong and how to fix it; they never contain a credential.

The emulator, a leaf package, has its own errors under this root
(:mod:`s2raster.emulator.errors`, re-exported here as ``s2raster.EmulatorError``).
"""

from __future__ import annotations


class S2RasterError(Exception):
    """Base class of every error s2raster raises on purpose."""


class InputError(S2RasterError, ValueError):
    """An argument is invalid (bbox, time range, resolution, CRS...)."""


class BandError(InputError):
    """A band name is unknown for the collection, or a needed band is missing."""


class GridError(InputError):
    """A grid cannot be built, or is too large without confirmation."""


class CredentialsError(S2RasterError, ValueError):
    """Credentials are missing or were refused by the token endpoint."""


class CostLimitError(S2RasterError, ValueError):
    """A job is estimated to cost more processing units than allowed."""


class ServiceError(S2RasterError, OSError):
    """The Process API (or the token endpoint) answered with an error.

    ``status`` is the HTTP status code, ``code`` the service's error code (e.g.
    ``RENDERER_EXCEPTION``), ``reason`` and ``detail`` its explanation.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class NetworkError(S2RasterError, OSError):
    """The service could not be reached (no network, DNS failure, dropped connection)."""


class ResponseError(S2RasterError, OSError):
    """A response could not be read, or does not match what was asked for."""


class ExportError(S2RasterError, OSError):
    """A GeoTIFF could not be written."""


class OutputPathError(InputError, ExportError):
    """An output path cannot be written (not a path, a directory, read-only, no space...).

    Raised before any request, so it is an :class:`InputError` (and an ``OSError``).
    """


class NoDataError(S2RasterError, LookupError):
    """The catalog has no acquisition for the area, time range and cloud filter asked for."""


class NoDataWarning(UserWarning):
    """A computed time step (or mosaic) has no valid pixel: every pixel is no-data."""
