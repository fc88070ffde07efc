"""Composing rendered passes into samples: per pixel, the first acquisition (in order)
whose tile holds the pixel and whose pass imaged it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from s2raster.emulator.earth._noise import F32
from s2raster.emulator.earth._sampling import Part
from s2raster.emulator.earth._tiles import tile_codes

if TYPE_CHECKING:
    from s2raster.emulator.earth._acquisition import Acquisition

Rendered = dict[str, F32]


def pixel_tiles(parts: Sequence[Part], shape: tuple[int, int]) -> np.ndarray:
    """The tile code of every pixel (the tile of its own zone holding its centre)."""
    codes = np.zeros(shape, np.int64)
    for part in parts:
        window = codes[part.rows, part.cols]
        for r0, r1, xs, ys in part.chunks():
            block = tile_codes(part.zone, xs, ys)
            if part.mask is None:
                window[r0:r1] = block
            else:
                np.copyto(window[r0:r1], block, where=part.mask[r0:r1])
    return codes


def compose(
    groups: Sequence[Sequence[Acquisition]],
    render: Callable[[Acquisition], Rendered],
    codes: np.ndarray,
    names: Sequence[str],
) -> list[Rendered]:
    """One mosaic per group; ``render(acq)`` renders the whole grid for ``acq``'s pass.

    Passes are rendered once each, in the order they first matter, and skipped when
    every pixel they could give already came from an acquisition ranked before theirs
    (so a mostRecent mosaic over years renders the few passes it shows).
    """
    shape = codes.shape
    outs = [{name: np.zeros(shape, np.float32) for name in names} for _ in groups]
    ranks = [np.full(shape, _NONE, np.int64) for _ in groups]
    where = {int(c): codes == c for c in np.unique(codes)}
    worst = [dict.fromkeys(where, _NONE) for _ in groups]  # per group: tile -> max rank
    uses: dict[object, list[tuple[int, int, Acquisition]]] = {}
    for g, group in enumerate(groups):
        for rank, acq in enumerate(group):
            uses.setdefault(acq.pass_ or acq.id, []).append((g, rank, acq))
    for users in sorted(uses.values(), key=lambda u: min(rank for _, rank, _ in u)):
        useful = [(g, r, a) for g, r, a in users if _gives(worst[g], _code(a), r)]
        if not useful:
            continue
        values = render(useful[0][2])
        has = values["dataMask"] > 0
        for g, rank, acq in useful:
            code = _code(acq)
            take = has & (ranks[g] > rank)
            if code != _ANY:
                take &= where[code]
            if not take.any():
                continue
            ranks[g][take] = rank
            for name in names:
                np.copyto(outs[g][name], values[name], where=take)
            for c in where if code == _ANY else (code,):
                worst[g][c] = int(ranks[g][where[c]].max())
    return outs


_NONE = np.iinfo(np.int64).max
_ANY = -1


def _gives(worst: dict[int, int], code: int, rank: int) -> bool:
    """Whether an acquisition of ``rank`` may still give a pixel of tile ``code``."""
    if code == _ANY:
        return any(w > rank for w in worst.values())
    return worst.get(code, -1) > rank


def _code(acq: Acquisition) -> int:
    return acq.tile.code if acq.tile is not None else _ANY
