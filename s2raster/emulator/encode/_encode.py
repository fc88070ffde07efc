"""The Process API response body: one file, or a ustar tar of several.

One output and no tar asked: the file itself with its content type. Several outputs (or
``Accept: application/x-tar``): a ustar tar of ``<id>.tif`` / ``.png`` / ``.jpg`` and
``userdata.json``, in the order of the request's responses, as in the service's answers
(e.g. ``default.tif`` then ``userdata.json``).
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Mapping
from typing import Any, Protocol

import numpy.typing as npt
from affine import Affine
from rasterio.crs import CRS

from s2raster.emulator.encode._image import check_jpeg, check_png, jpeg_bytes, png_bytes
from s2raster.emulator.encode._tiff import tiff_bytes
from s2raster.emulator.errors import BAD_PAYLOAD, EvalscriptError
from s2raster.emulator.runtime import ScriptSetup, dtype_of

TAR_TYPE = "application/x-tar"
JSON_TYPE = "application/json"
USERDATA = "userdata"
#: File extension of each output format in a tar.
EXTENSIONS = {"image/tiff": "tif", "image/png": "png", "image/jpeg": "jpg", JSON_TYPE: "json"}


class Result(Protocol):
    """What :func:`encode` reads of a run (``runtime.RunResult``)."""

    @property
    def outputs(self) -> Mapping[str, npt.NDArray[Any]]: ...
    @property
    def userdata(self) -> Any: ...


def encode(
    result: Result,
    setup: ScriptSetup,
    formats: Mapping[str, str],
    crs: str | CRS,
    transform: Affine,
    *,
    want_tar: bool,
) -> tuple[bytes, str]:
    """The response body and its content type.

    ``formats`` maps each requested identifier (an output id or ``"userdata"``) to its MIME
    type; ``crs`` (``"EPSG:n"``) and ``transform`` georeference the TIFFs. Raises
    :class:`EvalscriptError` for an unknown output or a format the output cannot take.
    """
    if not formats:
        raise EvalscriptError("No output asked for in output.responses.", code=BAD_PAYLOAD)
    files = []
    for ident, raw_mime in formats.items():
        mime = raw_mime.split(";")[0].strip().lower()
        files.append((ident, mime, file_bytes(result, setup, ident, mime, crs, transform)))
    if not want_tar and len(files) == 1:
        return files[0][2], files[0][1]
    return tar_bytes(
        [(f"{ident}.{EXTENSIONS[mime]}", data) for ident, mime, data in files]
    ), TAR_TYPE


def file_bytes(
    result: Result,
    setup: ScriptSetup,
    ident: str,
    mime: str,
    crs: str | CRS,
    transform: Affine,
) -> bytes:
    """One response file: output ``ident`` (or the userdata) in format ``mime``."""
    mime = mime.split(";")[0].strip().lower()
    if ident == USERDATA:
        if mime != JSON_TYPE:
            raise EvalscriptError(
                f"userdata is written as {JSON_TYPE}, not {mime}.", code=BAD_PAYLOAD
            )
        userdata = {} if result.userdata is None else result.userdata
        return json.dumps(userdata, separators=(",", ":")).encode()
    spec = setup.output(ident)
    data = result.outputs.get(ident)
    if data is None:
        raise EvalscriptError(f"Output {ident!r} was not computed.")
    if mime == "image/tiff":
        return tiff_bytes(data, crs, transform, nodata=spec.nodata_value, output_id=ident)
    if mime == "image/png":
        return png_bytes(data, output_id=ident)
    if mime == "image/jpeg":
        return jpeg_bytes(data, output_id=ident)
    raise EvalscriptError(
        f"Output {ident!r}: format {mime!r} is not supported; use image/tiff, image/png or "
        "image/jpeg.",
        code=BAD_PAYLOAD,
    )


def check_formats(setup: ScriptSetup, formats: Mapping[str, str]) -> None:
    """Refuse, before anything is computed, an image format that cannot hold its output's
    sampleType (and band count, unless ``updateOutput`` may change it)."""
    fixed_bands = "updateOutput" not in setup.functions
    for ident, raw_mime in formats.items():
        mime = raw_mime.split(";")[0].strip().lower()
        check = {"image/png": check_png, "image/jpeg": check_jpeg}.get(mime)
        if check is None or ident == USERDATA:
            continue
        spec = setup.output(ident)
        check(dtype_of(spec.sample_type), spec.bands if fixed_bands else None, output_id=ident)


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A ustar tar of ``(name, content)`` members (mode 0644, owner 0/0, as the service's)."""
    out = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), now, 0o644
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()
