"""Composing rendered passes into samples: per pixel, the first acquisition (in order)
whose tile holds the pixel and whose pass imaged it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from s2raster.emulator.earth._noise import F32
from s2raster.emulator.earth._sampling import Part
from s2raster.emulator.earth._tiles import Tile

if TYPE_CHECKING:
    from s2raster.emulator.earth._acquisition import Acquisition

Rendered = dict[str, F32]


def pixel_masks(
    parts: Sequence[Part], tiles: Iterable[Tile], shape: tuple[int, int]
) -> dict[Tile, np.ndarray]:
    """For each tile, which pixels it holds (their centres, in their own zone)."""
    masks = {}
    for tile in tiles:
        mask = np.zeros(shape, bool)
        for part in parts:
            if part.zone != tile.zone:
                continue
            window = mask[part.rows, part.cols]
            for r0, r1, xs, ys in part.chunks():
                inside = tile.holds(part.zone, xs, ys)
                if part.mask is not None:
                    inside &= part.mask[r0:r1]
                window[r0:r1] |= inside
        masks[tile] = mask
    return masks


def compose(
    groups: Sequence[Sequence[Acquisition]],
    render: Callable[[Acquisition], Rendered],
    masks: dict[Tile, np.ndarray],
    shape: tuple[int, int],
    names: Sequence[str],
) -> list[Rendered]:
    """One mosaic per group; ``render(acq)`` renders the whole grid for ``acq``'s pass.

    Passes are rendered once each, in the order they first matter, and skipped when
    every pixel they could give already came from an acquisition ranked before theirs
    (so a mostRecent mosaic over years renders the few passes it shows).
    """
    outs = [{name: np.zeros(shape, np.float32) for name in names} for _ in groups]
    ranks = [np.full(shape, _NONE, np.int64) for _ in groups]
    where: dict[Tile | None, np.ndarray] = {t: m for t, m in masks.items() if m.any()}
    where[None] = np.ones(shape, bool)  # hand-made acquisitions: every pixel
    worst = [dict.fromkeys(where, _NONE) for _ in groups]  # per group: tile -> max rank
    uses: dict[object, list[tuple[int, int, Acquisition]]] = {}
    for g, group in enumerate(groups):
        for rank, acq in enumerate(group):
            uses.setdefault(acq.pass_ or acq.id, []).append((g, rank, acq))
    for users in sorted(uses.values(), key=lambda u: min(rank for _, rank, _ in u)):
        useful = [(g, r, a) for g, r, a in users if worst[g].get(a.tile, -1) > r]
        if not useful:
            continue
        values = render(useful[0][2])
        has = values["dataMask"] > 0
        for g, rank, acq in useful:
            take = has & (ranks[g] > rank) & where[acq.tile]
            if not take.any():
                continue
            ranks[g][take] = rank
            for name in names:
                np.copyto(outs[g][name], values[name], where=take)
            for t, mask in where.items():  # overlapping tiles share pixels
                worst[g][t] = int(ranks[g][mask].max())
    return outs


_NONE = np.iinfo(np.int64).max
