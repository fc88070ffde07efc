"""The statistics of one output band over the pixels its ``dataMask`` keeps, as the service
answers them: ``stats {min, max, mean, stDev, sampleCount, noDataCount, percentiles}`` and an
optional ``histogram {bins [{lowEdge, highEdge, count}], overflowCount, underflowCount}``.

Shapes from https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Statistical/Examples.html
(percentile keys as ``"50.0"``; an empty selection answers ``"NaN"``, as JSON has no NaN).
``stDev`` is the population standard deviation (numpy's default; the service does not say),
percentiles interpolate linearly between order statistics (numpy's default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class HistogramSpec:
    """``nBins`` or ``binWidth`` between ``lowEdge`` and ``highEdge``, or explicit ``bins``."""

    n_bins: int | None = None
    bin_width: float | None = None
    low: float | None = None
    high: float | None = None
    bins: tuple[float, ...] | None = None


def band_statistics(
    values: np.ndarray,
    keep: np.ndarray,
    percentiles: tuple[float, ...] = (),
    histogram: HistogramSpec | None = None,
) -> dict[str, Any]:
    """``{"stats": ..., "histogram"?: ...}`` of ``values`` where ``keep`` (same shape)."""
    selected = values[keep].astype(np.float64)
    selected = selected[np.isfinite(selected)]
    stats: dict[str, Any] = {
        "min": _json(selected.min()) if selected.size else "NaN",
        "max": _json(selected.max()) if selected.size else "NaN",
        "mean": _json(selected.mean()) if selected.size else "NaN",
        "stDev": _json(selected.std()) if selected.size else "NaN",
        "sampleCount": int(values.size),
        "noDataCount": int(values.size - selected.size),
    }
    if percentiles:
        found = (
            np.percentile(selected, percentiles) if selected.size else [math.nan] * len(percentiles)
        )
        stats["percentiles"] = {
            f"{float(k):.1f}": _json(v) for k, v in zip(percentiles, found, strict=True)
        }
    answer: dict[str, Any] = {"stats": stats}
    if histogram is not None:
        answer["histogram"] = _histogram(selected, histogram)
    return answer


def _histogram(selected: np.ndarray, spec: HistogramSpec) -> dict[str, Any]:
    edges = _edges(selected, spec)
    if edges.size < 2:
        return {"bins": [], "overflowCount": 0, "underflowCount": 0}
    counts, _ = np.histogram(selected[(selected >= edges[0]) & (selected <= edges[-1])], edges)
    bins = [
        {"lowEdge": _json(lo), "highEdge": _json(hi), "count": int(n)}
        for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    return {
        "bins": bins,
        "overflowCount": int((selected > edges[-1]).sum()),
        "underflowCount": int((selected < edges[0]).sum()),
    }


def _edges(selected: np.ndarray, spec: HistogramSpec) -> np.ndarray:
    if spec.bins is not None:
        return np.asarray(spec.bins, dtype=np.float64)
    low = spec.low if spec.low is not None else (float(selected.min()) if selected.size else 0.0)
    high = spec.high if spec.high is not None else (float(selected.max()) if selected.size else 0.0)
    if not high > low:
        return np.asarray([low, low + 1.0]) if selected.size else np.empty(0)
    if spec.bin_width is not None:
        n = max(1, math.ceil((high - low) / spec.bin_width - 1e-9))
        return low + spec.bin_width * np.arange(n + 1, dtype=np.float64)
    return np.linspace(low, high, (spec.n_bins or 10) + 1)


def _json(value: Any) -> float | str:
    number = float(value)
    return number if math.isfinite(number) else "NaN"
