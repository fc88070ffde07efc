"""The per-block work of :func:`s2raster.zonal_stats`: label rasters and mergeable partials.

Private to :mod:`s2raster.zonal`. For one spatial block, every zone that reaches it is
rasterized once into an integer label raster (``rasterio.features.rasterize``, pixel centres,
label = zone index + 1), one raster per *layer* of zones that do not overlap each other (so
an overlapping pair is still counted in both). For one chunk of pixels (all its time steps
and bands at once), the labelled pixels are sorted by label once and every statistic is a
``reduceat`` over the label segments: count, sum, mean and M2 (merged across blocks with
Chan's formula), min and max (``fmin``/``fmax``, which skip NaN). Medians need all of a
zone's values: a zone whose pixels all lie in the block gets its median there (one
``lexsort`` of the block's labelled values by (zone, value)); the values of a zone split
between blocks are kept and its median is computed once they are all in (:func:`merge`).
So memory is one chunk plus the labelled pixels of zones cut by block edges, never the cube.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Labels:
    """The label rasters of one spatial block (one per layer) and its zones' pixel counts."""

    layers: tuple[np.ndarray, ...]
    zones: np.ndarray  # zone indices present (sorted)
    pixels: np.ndarray  # pixel centres inside each of them, in this block


@dataclass
class Partial:
    """Mergeable statistics of some zones over some planes (time x band) of one chunk."""

    planes: np.ndarray  # flat plane indices (P,)
    zones: np.ndarray  # zone indices (Z,)
    n: np.ndarray  # (P, Z) valid pixels
    mean: np.ndarray  # (P, Z)
    m2: np.ndarray  # (P, Z) sum of squared deviations from the mean
    low: np.ndarray  # (P, Z) min
    high: np.ndarray  # (P, Z) max
    median: np.ndarray  # (P, Z), NaN where the zone is cut by the block's edges
    cut_zones: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    cut_values: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32))


def labels(
    layers_in: Sequence[Sequence[tuple[BaseGeometry, int]]],
    shape: tuple[int, int],
    transform: Affine,
) -> Labels:
    """Rasterize ``(geometry, zone index)`` pairs (one list per layer) on a block."""
    layers: list[np.ndarray] = []
    zones, pixels = [], []
    for layer in layers_in:
        if not layer:
            continue
        shapes = ((geometry, k + 1) for geometry, k in layer)
        raster = rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32")
        present, counts = np.unique(raster[raster > 0], return_counts=True)
        if present.size:
            layers.append(raster)
            zones.append(present - 1)
            pixels.append(counts)
    if not zones:
        return Labels((), np.empty(0, np.int64), np.empty(0, np.int64))
    return Labels(tuple(layers), np.concatenate(zones), np.concatenate(pixels))


def aggregate(
    chunk: np.ndarray, block: Labels, planes: np.ndarray, complete: np.ndarray, median: bool
) -> list[Partial]:
    """Partials of ``chunk`` (planes, h, w) for the zones of ``block``; ``complete[k]`` says
    whether zone k lies wholly in this block (its median can be computed here)."""
    values = chunk.reshape(len(planes), -1)
    found = []
    for raster in block.layers:
        flat = raster.ravel()
        where = np.flatnonzero(flat)
        order = np.argsort(flat[where], kind="stable")
        pixel = where[order]
        label = flat[pixel].astype(np.int64) - 1
        found.append(_partial(values[:, pixel], label, planes, complete, median))
    return found


def _partial(
    vals: np.ndarray, label: np.ndarray, planes: np.ndarray, complete: np.ndarray, median: bool
) -> Partial:
    zones, starts = np.unique(label, return_index=True)
    valid = ~np.isnan(vals)
    n = np.add.reduceat(valid, starts, axis=1).astype(np.int64)
    x = np.where(valid, vals, 0).astype(np.float64)
    total = np.add.reduceat(x, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    deviation = np.where(valid, x - np.repeat(mean, np.diff(np.append(starts, label.size)), 1), 0)
    m2 = np.add.reduceat(deviation * deviation, starts, axis=1)
    low = np.fmin.reduceat(vals, starts, axis=1).astype(np.float64)
    high = np.fmax.reduceat(vals, starts, axis=1).astype(np.float64)
    medians = np.full(n.shape, np.nan)
    partial = Partial(planes, zones, n, np.where(n > 0, mean, 0.0), m2, low, high, medians)
    if median:
        whole = complete[zones]
        medians[:, whole] = segment_medians(vals, label, starts, n)[:, whole]
        cut = ~complete[label]
        partial.cut_zones, partial.cut_values = label[cut], vals[:, cut]
    return partial


def segment_medians(
    vals: np.ndarray, label: np.ndarray, starts: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Median of each label segment of ``vals`` (P, k) (``label`` sorted), NaN skipped."""
    keys = np.broadcast_to(label, vals.shape)
    order = np.lexsort((vals, keys), axis=-1)  # NaN sorts last within a segment
    ordered = np.take_along_axis(vals, order, axis=-1).astype(np.float64)
    lo = starts[None, :] + np.maximum(n - 1, 0) // 2
    hi = starts[None, :] + n // 2
    lo_v = np.take_along_axis(ordered, np.minimum(lo, vals.shape[1] - 1), axis=1)
    hi_v = np.take_along_axis(ordered, np.minimum(hi, vals.shape[1] - 1), axis=1)
    return np.where(n > 0, (lo_v + hi_v) / 2, np.nan)


@dataclass
class Totals:
    """Every partial merged: (planes, zones) arrays of the final statistics."""

    n: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray
    median: np.ndarray


def merge(partials: Sequence[Partial], n_planes: int, n_zones: int) -> Totals:
    """Merge partials (Chan et al. for mean/M2), then the medians of zones cut by blocks."""
    shape = (n_planes, n_zones)
    out = Totals(
        np.zeros(shape, np.int64),
        np.zeros(shape),
        np.zeros(shape),
        np.full(shape, np.nan),
        np.full(shape, np.nan),
        np.full(shape, np.nan),
    )
    cut: dict[tuple[int, ...], list[Partial]] = {}
    for part in partials:
        rows, cols = np.ix_(part.planes, part.zones)
        n_a, n_b = out.n[rows, cols], part.n
        n = n_a + n_b
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = part.mean - out.mean[rows, cols]
            mean = np.where(n > 0, out.mean[rows, cols] + delta * n_b / n, 0.0)
            m2 = out.m2[rows, cols] + part.m2 + np.where(n > 0, delta**2 * n_a * n_b / n, 0.0)
        out.n[rows, cols], out.mean[rows, cols], out.m2[rows, cols] = n, mean, m2
        out.low[rows, cols] = np.fmin(out.low[rows, cols], part.low)
        out.high[rows, cols] = np.fmax(out.high[rows, cols], part.high)
        known = ~np.isnan(part.median)
        out.median[rows, cols] = np.where(known, part.median, out.median[rows, cols])
        if part.cut_zones.size:
            cut.setdefault(tuple(part.planes.tolist()), []).append(part)
    for planes, parts in cut.items():
        _cut_medians(out.median, np.asarray(planes), parts)
    return out


def _cut_medians(median: np.ndarray, planes: np.ndarray, parts: list[Partial]) -> None:
    label = np.concatenate([p.cut_zones for p in parts])
    vals = np.concatenate([p.cut_values for p in parts], axis=1)
    order = np.argsort(label, kind="stable")
    label, vals = label[order], vals[:, order]
    zones, starts = np.unique(label, return_index=True)
    n = np.add.reduceat(~np.isnan(vals), starts, axis=1)
    median[np.ix_(planes, zones)] = segment_medians(vals, label, starts, n)
