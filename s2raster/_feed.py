"""Compute a ``(bands, y, x)`` array block by block into a writer (``target[key] = block``).

Private to :mod:`s2raster.cog`. A numpy array goes in strips; a dask array is stored with
``dask.array.store`` on the threaded scheduler, or, when the current scheduler is a
``distributed`` client, computed on the cluster block by block and written in this process
as the blocks arrive (by a small thread pool: compression releases the GIL), so only the
blocks being written (as many as writer threads) are ever held here.

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
    """Write all of ``data`` into ``target``; numpy in strips of ``strip_rows`` rows."""
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
            _feed_distributed(client, data, target)
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


def _feed_distributed(client: Any, data: Any, target: Target) -> None:
    from distributed import as_completed

    delayed = data.to_delayed()
    keys = dict(_blocks(data))
    futures = client.compute([delayed[index] for index in keys])
    where = dict(zip(futures, keys.values(), strict=True))
    threads = max(2, min(4, os.cpu_count() or 2))
    pending: set[Future[None]] = set()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                while len(pending) >= threads:  # at most ``threads`` blocks held here
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for finished in done:
                        finished.result()
                block = future.result()  # the next block comes over only now
                future.release()
                pending.add(pool.submit(target.__setitem__, where[future], block))
                del block
            for finished in pending:
                finished.result()
    except BaseException:
        client.cancel(futures)
        raise
