"""The per-block work of :func:`s2raster.zonal_stats`: label rasters and mergeable partials.

Private to :mod:`s2raster.zonal`. For one spatial block, every zone that reaches it is
rasterized once into an integer label raster (``rasterio.features.rasterize``, pixel centres,
label = zone index + 1), one raster per *layer* of zones that do not overlap each other (so
an overlapping pair is still counted in both). The labelled pixels are sorted by label once per
block, and for each chunk (its time steps and bands at once) every statistic is a
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
class Layer:
    """One label raster, as the labelled pixels sorted by zone (sorted once per block, then
    used for every chunk of the block: each time step and band)."""

    pixel: np.ndarray  # flat pixel indices in the block, grouped by zone
    label: np.ndarray  # the zone index of each, ascending
    zones: np.ndarray  # the zones present, ascending
    starts: np.ndarray  # where each zone's pixels start in ``pixel``


@dataclass(frozen=True)
class Labels:
    """The layers of one spatial block and its zones' pixel counts."""

    layers: tuple[Layer, ...]
    zones: np.ndarray  # zone indices present
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
    layers: list[Layer] = []
    zones, pixels = [], []
    for layer in layers_in:
        if not layer:
            continue
        shapes = ((geometry, k + 1) for geometry, k in layer)
        raster = rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32")
        flat = raster.ravel()
        where = np.flatnonzero(flat)
        pixel = where[np.argsort(flat[where], kind="stable")]
        label = flat[pixel].astype(np.int64) - 1
        present, starts, counts = np.unique(label, return_index=True, return_counts=True)
        if present.size:
            layers.append(Layer(pixel, label, present, starts))
            zones.append(present)
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
    return [
        _partial(values[:, layer.pixel], layer, planes, complete, median) for layer in block.layers
    ]


def _partial(
    vals: np.ndarray, layer: Layer, planes: np.ndarray, complete: np.ndarray, median: bool
) -> Partial:
    label, zones, starts = layer.label, layer.zones, layer.starts
    valid = ~np.isnan(vals)
    n = np.add.reduceat(valid, starts, axis=1, dtype=np.int64)
    x = np.where(valid, vals, 0).astype(np.float64)
    total = np.add.reduceat(x, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    x -= np.repeat(mean, np.diff(np.append(starts, label.size)), axis=1)
    x[~valid] = 0.0
    np.square(x, out=x)
    m2 = np.add.reduceat(x, starts, axis=1)
    del x
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
    """Median of each label segment of ``vals`` (P, k) (``label`` sorted), NaN skipped.

    Per plane, one sort of 64-bit keys ``label << 32 | order-preserving bits of the float32
    value`` (NaN last): the values sort within their zone, exactly, and the medians are read
    back from the keys at each zone's middle positions. Other dtypes: an argsort by (zone,
    value) with ``lexsort``.
    """
    medians = np.full(n.shape, np.nan)
    lo_at = starts + np.maximum(n - 1, 0) // 2  # (P, Z)
    hi_at = starts + n // 2
    last = max(label.size - 1, 0)
    high = label.astype(np.uint64) << np.uint64(32)
    for p in range(vals.shape[0]):
        if vals.dtype == np.float32:
            keys = high | _sortable(vals[p]).astype(np.uint64)
            keys.sort()
            pick = _unsortable((keys & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        else:
            pick = vals[p][np.lexsort((vals[p], label))]
        pair = pick[np.minimum(lo_at[p], last)].astype(np.float64)
        pair += pick[np.minimum(hi_at[p], last)]
        medians[p] = np.where(n[p] > 0, pair / 2, np.nan)
    return medians


_SIGN = np.uint32(0x80000000)


def _sortable(values: np.ndarray) -> np.ndarray:
    """float32 -> uint32 in the same order (negatives flipped, positives offset), NaN last."""
    bits = np.ascontiguousarray(values).view(np.uint32)
    out = np.where(bits & _SIGN, ~bits, bits | _SIGN)
    out[np.isnan(values)] = np.uint32(0xFFFFFFFF)
    return out


def _unsortable(keys: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_sortable` (NaN stays NaN)."""
    bits = np.where(keys & _SIGN, keys ^ _SIGN, ~keys).astype(np.uint32)
    return bits.view(np.float32)


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
