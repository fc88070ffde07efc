"""Compute a ``(bands, y, x)`` array block by block into a writer (``target[key] = block``).

Private to :mod:`s2raster.cog`. A numpy array goes in strips; a dask array is stored with
``dask.array.store`` on the threaded scheduler, or, when the current scheduler is a
``distributed`` client, computed on the cluster block by block and written in this process
as they arrive, in pieces of rows (by a small thread pool: compression releases the GIL),
so only the pieces being written (as many as writer threads) are ever held here.

``target`` needs ``shape``, ``__setitem__((slice, slice, slice), block)`` and ``close()``
(after which late writes are dropped, for stores that fail half-way).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import accumulate, product
from typing import Any, Protocol, cast

import numpy as np

__all__ = ["Target", "feed", "strip_rows"]

#: About this many bytes of a numpy array are handed over at once.
STRIP_BYTES = 64 * 2**20


class Target(Protocol):
    shape: tuple[int, int, int]

    def __setitem__(self, key: tuple[slice, slice, slice], value: np.ndarray) -> None: ...

    def close(self) -> None: ...


def feed(data: Any, target: Target, *, strip_rows: int) -> None:
    """Write all of ``data`` into ``target``; numpy in strips of ``strip_rows`` rows, a
    dask array's blocks from a cluster in pieces cut at multiples of ``strip_rows``."""
    try:
        if isinstance(data, np.ndarray):
            for top in range(0, data.shape[1], strip_rows):
                strip = data[:, top : top + strip_rows]
                target[slice(None), slice(top, top + strip.shape[1]), slice(None)] = strip
            return
        client = _distributed_client()
        if client is None:
            import dask.array as dsa
            import dask.threaded

            # the threaded scheduler itself, not its name: a name makes dask import
            # distributed (when installed) to look for a client: +33 MB for nothing
            dsa.store(data, cast(Any, target), lock=False, scheduler=dask.threaded.get)
        else:
            _feed_distributed(client, data, target, strip_rows)
    finally:
        # When a block fails, dask raises while pool threads may still be storing others:
        # no write may touch the writer once it is closed.
        target.close()


def strip_rows(shape: tuple[int, ...], dtype: Any, multiple: int) -> int:
    """Rows of a numpy strip of ``shape`` (bands, h, w): about :data:`STRIP_BYTES`, a
    multiple of ``multiple``."""
    row_bytes = max(int(shape[0]) * int(shape[2]) * int(np.dtype(dtype).itemsize), 1)
    rows: int = max(multiple, STRIP_BYTES // row_bytes // multiple * multiple)
    return rows


def _distributed_client() -> Any:
    """The ``distributed`` client that dask would compute with now, or None."""
    module = sys.modules.get("distributed")
    if module is None:
        return None
    import dask.base

    scheduler = dask.base.get_scheduler()  # type: ignore[no-untyped-call]
    owner = getattr(scheduler, "__self__", None)
    return owner if isinstance(owner, module.Client) else None


def _blocks(data: Any) -> Iterator[tuple[tuple[int, ...], tuple[slice, slice, slice]]]:
    starts = [list(accumulate(axis, initial=0)) for axis in data.chunks]
    for index in product(*(range(n) for n in data.numblocks)):
        key = tuple(slice(starts[a][i], starts[a][i + 1]) for a, i in enumerate(index))
        yield index, cast(tuple[slice, slice, slice], key)


def _pieces(rows: slice, step: int) -> Iterator[slice]:
    """``rows`` cut at the multiples of ``step`` (as numbered in the whole array)."""
    start = rows.start
    while start < rows.stop:
        stop = min(rows.stop, (start // step + 1) * step)
        yield slice(start, stop)
        start = stop


_Key = tuple[slice, slice, slice]


def _groups(data: Any, strip_rows: int) -> Iterator[list[tuple[Any, _Key]]]:
    """Per block of ``data``: its pieces (delayed) and where each goes, in row order."""
    delayed = data.to_delayed()
    for index, (bands, rows, cols) in _blocks(data):
        group: list[tuple[Any, _Key]] = []
        for piece in _pieces(rows, strip_rows):
            local = slice(piece.start - rows.start, piece.stop - rows.start)
            group.append((delayed[index][:, local], (bands, piece, cols)))
        yield group


def _feed_distributed(client: Any, data: Any, target: Target, strip_rows: int) -> None:
    """Blocks computed on the cluster, each sent here in pieces of rows cut at multiples of
    ``strip_rows`` (tiles of the writer stay whole): only a few pieces, not whole tiles of
    the load, are held in this process (a 2500 x 2500 x 4 float32 block is 95 MB).

    One block per worker thread is computed ahead of the writer (a block is then taken
    whole, piece after piece, and the next one submitted): the workers do not pile up
    blocks the writer has not taken yet, whatever the area (two were measured to hold
    630 MB per worker against 440 MB, for no gain in time).
    """
    from distributed import as_completed

    groups = _groups(data, strip_rows)
    live: dict[Any, list[tuple[Any, _Key]]] = {}  # first piece -> all of its block

    def submit() -> Any | None:
        group = next(groups, None)
        if group is None:
            return None
        futures = client.compute([part for part, _ in group])
        live[futures[0]] = list(zip(futures, (key for _, key in group), strict=True))
        return futures[0]

    window = max(2, sum(client.nthreads().values()))
    first = [head for head in (submit() for _ in range(window)) if head is not None]
    heads = as_completed(first)  # type: ignore[no-untyped-call]
    threads = max(2, min(4, os.cpu_count() or 2))
    pending: set[Future[None]] = set()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for head in heads:
                for future, key in live[head]:
                    while len(pending) >= threads:  # at most ``threads`` pieces held here
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for finished in done:
                            finished.result()
                    piece = future.result()  # the next piece comes over only now
                    future.release()
                    pending.add(pool.submit(target.__setitem__, key, piece))
                    del piece
                del live[head]
                following = submit()
                if following is not None:
                    heads.add(following)  # type: ignore[no-untyped-call]
            for finished in pending:
                finished.result()
    except BaseException:
        client.cancel([future for pieces in live.values() for future, _ in pieces])
        raise
