"""What an evalscript gets: the acquisitions of a Process request, grouped into samples
(SIMPLE: one mosaic; ORBIT: one per UTC day, as ``scenes.orbits``; TILE: one per tile),
and their pixels.

The candidates are the acquisitions of the tiles under the request whose sensing time is
in its ``timeRange`` and, with ``maxCloudCoverage``, whose tile cloud cover is at most
that, in ``mosaickingOrder``. Within a sample each pixel comes from the first candidate
whose tile holds it and whose pass imaged it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.features import geometry_mask

from s2raster.emulator import earth, runtime
from s2raster.emulator.request import ProcessRequest


def lonlat_boxes(request: ProcessRequest) -> list[tuple[float, float, float, float]]:
    """The lon/lat box of the request's output grid (two, one each side, when it crosses
    the antimeridian)."""
    t = np.linspace(0.0, 1.0, 21)
    w, h = request.width, request.height
    cols = np.concatenate([t * w, np.full(21, w), (1 - t) * w, np.zeros(21)])
    rows = np.concatenate([np.zeros(21), t * h, np.full(21, h), (1 - t) * h])
    a = request.transform
    xs, ys = a.c + a.a * cols + a.b * rows, a.f + a.d * cols + a.e * rows
    to_lonlat = Transformer.from_crs(request.crs, "EPSG:4326", always_xy=True)
    lon, lat = (np.asarray(v, np.float64) for v in to_lonlat.transform(xs, ys))
    south, north = max(float(lat.min()), -90.0), min(float(lat.max()), 90.0)
    if float(lon.max() - lon.min()) <= 180.0:
        return [(float(lon.min()), south, float(lon.max()), north)]
    east, west = lon[lon < 0], lon[lon >= 0]
    return [(float(west.min()), south, 180.0, north), (-180.0, south, float(east.max()), north)]


def candidates(request: ProcessRequest) -> list[earth.Acquisition]:
    """The request's acquisitions, filtered and ordered as the service does."""
    found: dict[str, earth.Acquisition] = {}
    for box in lonlat_boxes(request):
        for acq in earth.acquisitions(
            request.collection, box, request.time_from, request.time_to, touching=False
        ):
            found.setdefault(acq.id, acq)
    return earth.order(found.values(), request.mosaicking_order, request.max_cloud)


def groups_of(acqs: Sequence[earth.Acquisition], mosaicking: str) -> list[list[int]]:
    """Indices of ``acqs`` per sample: all (SIMPLE), per UTC day (ORBIT), each (TILE);
    samples in the order of their first acquisition."""
    if mosaicking == "SIMPLE":
        return [list(range(len(acqs)))]
    if mosaicking == "TILE":
        return [[k] for k in range(len(acqs))]
    days: dict[object, list[int]] = {}
    for k, acq in enumerate(acqs):
        days.setdefault(acq.datetime.date(), []).append(k)
    return list(days.values())


def kept(groups: list[list[int]], keep: Sequence[int], mosaicking: str) -> list[list[int]]:
    """The samples left after the script's ``preProcessScenes``/``filterScenes`` kept the
    scenes ``keep`` (for SIMPLE the scenes are the acquisitions, in the kept order)."""
    if mosaicking == "SIMPLE":
        return [list(keep)]
    return [groups[k] for k in keep]


def scenes_of(
    acqs: Sequence[earth.Acquisition], groups: Sequence[Sequence[int]], mosaicking: str,
    request: ProcessRequest,
) -> list[dict[str, Any]]:  # fmt: skip
    """The ``scenes.orbits`` entry of each sample: its tiles, the nearest to the request's
    centre first (as the service lists them); for SIMPLE, one per acquisition (the scenes
    the mosaic was made of)."""
    if mosaicking == "SIMPLE":
        groups = [[k] for k in range(len(acqs))]
    box = lonlat_boxes(request)[0]
    centre = (0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3]))

    def distance(k: int) -> float:
        ring = acqs[k].footprint
        if not ring:
            return 0.0
        lon = sum(q[0] for q in ring) / len(ring) - centre[0]
        lat = sum(q[1] for q in ring) / len(ring) - centre[1]
        return (lon * math.cos(math.radians(centre[1]))) ** 2 + lat**2

    return [
        runtime.orbit_scene([acqs[k] for k in sorted(group, key=distance)], request.collection)
        for group in groups
    ]


def render(
    request: ProcessRequest,
    setup: Any,
    acqs: Sequence[earth.Acquisition],
    groups: Sequence[Sequence[int]],
) -> list[dict[str, np.ndarray]]:
    """The samples' pixels (every band 0 and dataMask 0 where no candidate has data, and
    outside the request geometry)."""
    shape = (request.height, request.width)
    bands = list(dict.fromkeys([*setup.input_bands, "dataMask"]))
    if acqs:
        samples: list[dict[str, np.ndarray]] = earth.render(
            request.collection, list(acqs), request.crs, _renderable(request.transform), shape,
            bands,
            units=setup.units, upsampling=request.upsampling,
            downsampling=request.downsampling, harmonize=request.harmonize, groups=groups,
        )  # fmt: skip
    else:
        samples = [{band: np.zeros(shape, np.float32) for band in bands} for _ in groups]
    if request.bounds.geometry is not None:
        _apply_geometry(samples, request)
    return samples


def _renderable(transform: Affine) -> Affine:
    """``transform`` with a pixel size of at least 1e-9 CRS units: a bbox without area (a
    point or a line, which the service serves) samples that point or line everywhere."""
    a = transform.a if transform.a > 0 else 1e-9
    e = transform.e if transform.e < 0 else -1e-9
    return Affine(a, transform.b, transform.c, transform.d, e, transform.f)


def _apply_geometry(samples: list[dict[str, np.ndarray]], request: ProcessRequest) -> None:
    """Pixels whose centre is outside the request geometry get dataMask 0 and all bands 0."""
    outside = geometry_mask(
        [request.bounds.geometry],
        out_shape=(request.height, request.width),
        transform=request.transform,
    )
    if not outside.any():
        return
    zero = np.float32(0)
    for sample in samples:
        for name, band in sample.items():
            sample[name] = np.where(outside, zero, band).astype(band.dtype, copy=False)
