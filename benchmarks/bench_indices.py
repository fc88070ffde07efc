"""Spectral index speed on full Sentinel-2 tiles, against the memory-bandwidth bound.

Data: 10980 x 10980 float32 reflectance bands (482 MB each). To keep memory low, the bands
are distinct windows of one random pool of two bands' size (each band a separate
contiguous stream, far apart in memory: reading two of them is two DRAM streams).

Anchors: ``np.add(a, b, out=c)`` reads two bands and writes one (3 streams); the bound of
an index reading k bands is that time x (k + 1) / 3 -- reading its inputs and writing its
output once. "into" writes into an existing array, "fresh" into a new one (as any function
returning a new array must: the kernel zeroes the new pages); on one thread or two, whichever
streams faster. The anchors are timed in turn with each candidate (best of ``--repeat``
rounds each), so a machine shared with other work slows both alike.

Candidates for NDVI and EVI: ``s2raster.indices.compute`` (the formula compiled by numba
into one loop, two threads), the same on dask tiles (2048 px, threaded scheduler,
``.persist()``: the blocks, not joined into one array), the loop on one thread, the numpy
tape (ufunc calls over cache-sized pieces with preallocated scratch: what runs without
numba and on blocks under ``NATIVE_MIN`` elements) on two threads and one, numexpr (the
same formula tree; NaN-safe with ``where(d == 0, nan, n / d)`` per
division, and unguarded), a plain numpy expression, and ``spyndex.computeIndex``. Then
``compute`` over every catalogue index: the median (and quartiles) of time / bound.

    PYTHONPATH=. python benchmarks/bench_indices.py [--size 10980] [--repeat 3]
        [--catalogue-size N] [--no-catalogue]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import xarray as xr

from s2raster import indices
from s2raster.indices import _kernel
from s2raster.indices._compiler import compile_tree, fold
from s2raster.indices._compute import formulas
from s2raster.indices._tree import Call, Compare, Name, Node, Num, Unary

ORDER = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
SPYNDEX = {"B": "B02", "R": "B04", "N": "B08"}
POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)


def best(func: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` runs after one warm-up (results dropped at once)."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def make_bands(size: int) -> dict[str, np.ndarray]:
    """Twelve distinct (size, size) float32 windows of one random pool of 2 x size^2."""
    rng = np.random.default_rng(0)
    n = size * size
    pool = rng.uniform(0.01, 0.6, size=2 * n).astype(np.float32)
    step = n // len(ORDER)
    return {b: pool[i * step : i * step + n].reshape(size, size) for i, b in enumerate(ORDER)}


def as_dataset(bands: dict[str, np.ndarray], names: Sequence[str]) -> xr.Dataset:
    """The bands ``names`` as a Dataset, one variable each (no copy, unlike stacking)."""
    return xr.Dataset({b: (("y", "x"), bands[b]) for b in names})


def halves(func: Callable[..., Any], out: np.ndarray, *inputs: np.ndarray) -> None:
    h = out.shape[0] // 2
    jobs = [
        POOL.submit(func, *(a[:h] for a in inputs), out=out[:h]),
        POOL.submit(func, *(a[h:] for a in inputs), out=out[h:]),
    ]
    for job in jobs:
        job.result()


class Anchors:
    """The 3-stream pass ``np.add(a, b)`` into an existing array and into a fresh one, on one
    thread or two (whichever streams faster here), timed next to each candidate."""

    def __init__(self, a: np.ndarray, b: np.ndarray, repeat: int) -> None:
        self.a, self.b, self.c = a, b, np.empty_like(a)
        one = best(lambda: np.add(a, b, out=self.c), repeat)
        two = best(lambda: halves(np.add, self.c, a, b), repeat)
        self.threads = 1 if one <= two else 2

    def into(self) -> None:
        if self.threads == 1:
            np.add(self.a, self.b, out=self.c)
        else:
            halves(np.add, self.c, self.a, self.b)

    def fresh(self) -> None:
        if self.threads == 1:
            np.add(self.a, self.b)
        else:
            halves(np.add, np.empty_like(self.a), self.a, self.b)

    def paired(self, func: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
        """Best seconds of ``func``, of into and of fresh, timed in turn (a busy machine
        slows all three alike)."""
        func()
        times: list[list[float]] = [[], [], []]
        for _ in range(repeat):
            for i, f in enumerate((func, self.into, self.fresh)):
                start = time.perf_counter()
                f()
                times[i].append(time.perf_counter() - start)
        cand, into, fresh = (min(t) for t in times)
        return cand, into, fresh


# --- numexpr, compiled from the same formula tree ---------------------------------------------


class NumexprKernel:
    """The formula as one numexpr program (float32 constants; optionally NaN-safe divisions)."""

    def __init__(self, tree: Node, inputs: Sequence[str], *, nan_safe: bool) -> None:
        import numexpr  # type: ignore[import-untyped]

        self.inputs, self.nan_safe = list(inputs), nan_safe
        self.constants: dict[str, np.float32] = {}
        self.text = self.emit(fold(tree))
        signature = [(f"v{i}", float) for i in range(len(inputs))]
        signature += [(k, float) for k in self.constants]  # numexpr 'float' is float32
        self.program = numexpr.NumExpr(self.text, signature=signature)

    def const(self, value: float) -> str:
        key = f"c{len(self.constants)}"
        self.constants[key] = np.float32(value)
        return key

    def emit(self, node: Node) -> str:
        if isinstance(node, Num):
            return self.const(node.value)
        if isinstance(node, Name):
            return f"v{self.inputs.index(node.id)}"
        if isinstance(node, Unary):
            return f"(-{self.emit(node.operand)})"
        if isinstance(node, Call):
            return f"{node.func}({self.emit(node.arg)})"
        left = self.emit(node.left)
        if isinstance(node, Compare):
            test = f"{left} {node.op} {self.emit(node.right)}"
            return f"where({test}, {self.const(1.0)}, {self.const(0.0)})"
        if node.op == "**" and isinstance(node.right, Num) and node.right.value in (2, 0.5):
            return f"({left}*{left})" if node.right.value == 2 else f"sqrt({left})"
        right = self.emit(node.right)
        if node.op == "/" and self.nan_safe and not isinstance(node.right, Num):
            return f"where({right} == 0, {self.const(float('nan'))}, {left} / {right})"
        return f"({left} {node.op} {right})"

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        out = np.empty(arrays[0].shape, np.float32)
        constants = self.constants.values()
        self.program(*arrays, *constants, out=out, order="K", casting="safe", ex_uses_vml=False)
        return out


# --- the runs ---------------------------------------------------------------------------------


def report(label: str, n_inputs: int, timed: tuple[float, float, float]) -> tuple[float, float]:
    """Print a candidate's time and its ratios to the bound (into, fresh); return them."""
    seconds, into, fresh = timed
    scale = (n_inputs + 1) / 3
    ratio_into, ratio_fresh = seconds / (into * scale), seconds / (fresh * scale)
    ratios = f"{ratio_into:5.2f}x into  {ratio_fresh:5.2f}x fresh"
    print(f"  {label:46s} {seconds * 1e3:8.0f} ms  {ratios}  (bound {into * scale * 1e3:.0f} ms)")
    return ratio_into, ratio_fresh


def plain_numpy(name: str, b: dict[str, np.ndarray]) -> Callable[[], Any]:
    n, r, blue = b["B08"], b["B04"], b["B02"]
    if name == "NDVI":
        return lambda: (n - r) / (n + r)
    return lambda: 2.5 * (n - r) / (n + 6.0 * r - 7.5 * blue + 1.0)


def spyndex_call(name: str, b: dict[str, np.ndarray]) -> Callable[[], Any] | None:
    try:
        import spyndex  # type: ignore[import-untyped]
    except ImportError:
        return None
    params: dict[str, Any] = {}
    for symbol in spyndex.indices[name].bands:
        params[symbol] = (
            b[SPYNDEX[symbol]] if symbol in SPYNDEX else spyndex.constants[symbol].default
        )
    return lambda: spyndex.computeIndex(name, params)


def _tiles(data: xr.Dataset) -> xr.Dataset:
    """``data`` in 2048 px dask chunks, each a contiguous array in memory (as a load's tiles)."""
    chunked = data.chunk({"y": 2048, "x": 2048})
    contiguous = chunked.map_blocks(lambda block: block.copy(deep=True))
    persisted: xr.Dataset = contiguous.persist(scheduler="threads")
    return persisted


def _dask(name: str, lazy: xr.Dataset) -> Any:
    """The index of every block (kept as blocks: no concatenation into one array)."""
    return indices.compute(name, lazy).persist(scheduler="threads")


def tape(program: Any, inputs: Sequence[np.ndarray], threads: int) -> np.ndarray:
    """``program`` on the numpy tape (ufunc calls over cache-sized pieces), not the loop."""
    saved, _kernel.NATIVE_MIN = _kernel.NATIVE_MIN, 2**62
    try:
        out: np.ndarray = program(*inputs, threads=threads)
    finally:
        _kernel.NATIVE_MIN = saved
    return out


def headline(bands: dict[str, np.ndarray], anchors: Anchors, repeat: int) -> None:
    for name in ("NDVI", "EVI"):
        (formula,) = formulas([name], {})
        inputs = [bands[b] for b in formula.bands]
        print(f"{name}: {formula.text}  ({len(inputs)} bands in, 1 out)")
        data = as_dataset(bands, formula.bands)
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("s2raster.indices.compute (loop, 2 threads)", partial(indices.compute, name, data))
        ]
        lazy = _tiles(data)
        runs.append(("compute on dask (2048 px tiles), blocks", partial(_dask, name, lazy)))
        program = compile_tree(formula.tree, formula.bands)
        runs.append(("compiled loop, 1 thread", partial(program, *inputs, threads=1)))
        runs.append(("numpy tape, 2 threads", partial(tape, program, inputs, 2)))
        runs.append(("numpy tape, 1 thread", partial(tape, program, inputs, 1)))
        for safe in (True, False):
            kernel = NumexprKernel(formula.tree, formula.bands, nan_safe=safe)
            label = f"numexpr ({'NaN-safe where()' if safe else 'unguarded: inf'})"
            runs.append((label, partial(kernel, *inputs)))
        runs.append(("plain numpy expression", plain_numpy(name, bands)))
        call = spyndex_call(name, bands)
        if call is not None:
            runs.append(("spyndex.computeIndex", call))
        with np.errstate(all="ignore"):
            for label, func in runs:
                report(label, len(inputs), anchors.paired(func, repeat))


def catalogue(bands: dict[str, np.ndarray], anchors: Anchors, repeat: int) -> None:
    ratios: dict[str, tuple[float, float]] = {}
    for name in indices.catalogue().index:
        constants: dict[str, Any] = {"PAR": 1500.0} if name == "NIRvP" else {}
        (formula,) = formulas([name], constants)
        run = partial(indices.compute, name, as_dataset(bands, formula.bands), **constants)
        ratios[name] = report(name, len(formula.bands), anchors.paired(run, repeat))
    for i, kind in enumerate(("into", "fresh")):
        values = np.array([r[i] for r in ratios.values()])
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        print(
            f"catalogue: {len(values)} indices, time / bound ({kind}): median {median:.2f}x, "
            f"quartiles {q1:.2f}x..{q3:.2f}x, best {values.min():.2f}x, worst {values.max():.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--catalogue-size", type=int, default=None)
    parser.add_argument("--catalogue-repeat", type=int, default=1)
    parser.add_argument("--no-catalogue", action="store_true")
    parser.add_argument("--no-headline", action="store_true")
    args = parser.parse_args()
    bands = make_bands(args.size)
    anchors = Anchors(bands["B04"], bands["B08"], args.repeat)
    mb = args.size**2 * 4 / 1e6
    print(f"{args.size} x {args.size} float32 bands ({mb:.0f} MB each), {os.cpu_count()} cores")
    print(
        f"anchor np.add(a, b): {anchors.threads} thread(s); bound of k bands = its time x (k+1)/3"
    )
    if not args.no_headline:
        headline(bands, anchors, args.repeat)
    if args.no_catalogue:
        return
    if args.catalogue_size and args.catalogue_size != args.size:
        del bands, anchors
        bands = make_bands(args.catalogue_size)
        anchors = Anchors(bands["B04"], bands["B08"], args.repeat)
        print(f"catalogue at {args.catalogue_size} x {args.catalogue_size} px")
    catalogue(bands, anchors, args.catalogue_repeat)


if __name__ == "__main__":
    main()
