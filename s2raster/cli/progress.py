"""A tqdm progress bar over tiles, fed by ``load``'s ``progress`` callback."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def tile_progress(total: int, *, quiet: bool) -> Iterator[Callable[..., None]]:
    """Yield a thread-safe callback that advances a bar of ``total`` tiles by one per call.

    The bar shows on a terminal only (stderr), never when ``quiet``.
    """
    from tqdm import tqdm

    lock = threading.Lock()
    disable = True if quiet else None  # None: tqdm shows the bar on a TTY only
    with tqdm(
        total=total, unit="tile", desc="tiles", file=sys.stderr, disable=disable, leave=False
    ) as bar:

        def advance(*_args: Any, **_kwargs: Any) -> None:
            with lock:
                bar.update(1)

        yield advance
