"""Spectral index speed on full Sentinel-2 tiles, against the memory-bandwidth bound.

Data: 10980 x 10980 float32 reflectance bands (482 MB each). To keep memory low, the bands
are distinct windows of one random pool of two bands' size (each band a separate
contiguous stream, far apart in memory: reading two of them is two DRAM streams).

Anchors, measured in the same run: ``np.add(a, b, out=c)`` reads two bands and writes one
(3 streams); the bound of an index reading k bands is that time x (k + 1) / 3 -- reading its
inputs and writing its output once. "into" writes into an existing array, "fresh" into a
new one (as any function returning a new array must: the kernel zeroes the new pages);
each the best of one thread and two (halves in a thread pool).

Candidates for NDVI and EVI: ``s2raster.indices.compute`` (the compiled tape: numpy ufuncs
over cache-sized pieces with preallocated scratch, two threads), the same tape on one
thread, numexpr (the same formula tree; NaN-safe with ``where(d == 0, nan, n / d)`` per
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


def anchors(a: np.ndarray, b: np.ndarray, repeat: int) -> dict[str, float]:
    """Seconds for one 3-stream pass (read 2, write 1), into an existing and a fresh array."""
    c = np.empty_like(a)
    into = min(
        best(lambda: np.add(a, b, out=c), repeat), best(lambda: halves(np.add, c, a, b), repeat)
    )
    fresh = min(
        best(lambda: np.add(a, b), repeat),
        best(lambda: halves(np.add, np.empty_like(a), a, b), repeat),
    )
    return {"into": into, "fresh": fresh}


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


def report(label: str, seconds: float, bound: dict[str, float]) -> None:
    ratios = f"{seconds / bound['into']:5.2f}x into  {seconds / bound['fresh']:5.2f}x fresh"
    print(f"  {label:44s} {seconds * 1e3:8.0f} ms  {ratios}")


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


def bound_for(anchor: dict[str, float], n_inputs: int) -> dict[str, float]:
    return {k: v * (n_inputs + 1) / 3 for k, v in anchor.items()}


def headline(bands: dict[str, np.ndarray], anchor: dict[str, float], repeat: int) -> None:
    for name in ("NDVI", "EVI"):
        (formula,) = formulas([name], {})
        inputs = [bands[b] for b in formula.bands]
        bound = bound_for(anchor, len(inputs))
        print(f"{name}: {formula.text}  ({len(inputs)} bands in, 1 out)")
        report("bound (read inputs + write output once)", bound["into"], bound)
        data = as_dataset(bands, formula.bands)
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("s2raster.indices.compute (tape, 2 threads)", partial(indices.compute, name, data))
        ]
        tape = compile_tree(formula.tree, formula.bands)
        runs.append(("compiled tape, 1 thread", partial(tape, *inputs, threads=1)))
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
                report(label, best(func, repeat), bound)


def catalogue(bands: dict[str, np.ndarray], anchor: dict[str, float], repeat: int) -> None:
    ratios: dict[str, float] = {}
    for name in indices.catalogue().index:
        constants: dict[str, Any] = {"PAR": 1500.0} if name == "NIRvP" else {}
        (formula,) = formulas([name], constants)
        run = partial(indices.compute, name, as_dataset(bands, formula.bands), **constants)
        ratios[name] = best(run, repeat) / bound_for(anchor, len(formula.bands))["into"]
    values = np.array(list(ratios.values()))
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    print(
        f"catalogue: {len(values)} indices, time / bound (into): median {median:.2f}x, "
        f"quartiles {q1:.2f}x..{q3:.2f}x, best {values.min():.2f}x"
    )
    worst = sorted(ratios.items(), key=lambda kv: -kv[1])[:5]
    print("  slowest: " + ", ".join(f"{k} {v:.1f}x" for k, v in worst))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--catalogue-size", type=int, default=None)
    parser.add_argument("--catalogue-repeat", type=int, default=1)
    parser.add_argument("--no-catalogue", action="store_true")
    args = parser.parse_args()
    bands = make_bands(args.size)
    anchor = anchors(bands["B04"], bands["B08"], args.repeat)
    mb = args.size**2 * 4 / 1e6
    print(f"{args.size} x {args.size} float32 bands ({mb:.0f} MB each), {os.cpu_count()} cores")
    print(
        f"anchor np.add(a, b, out=c): into {anchor['into'] * 1e3:.0f} ms "
        f"({3 * mb / anchor['into'] / 1e3:.1f} GB/s), fresh {anchor['fresh'] * 1e3:.0f} ms"
    )
    headline(bands, anchor, args.repeat)
    if args.no_catalogue:
        return
    if args.catalogue_size and args.catalogue_size != args.size:
        bands = make_bands(args.catalogue_size)
        anchor = anchors(bands["B04"], bands["B08"], args.repeat)
        print(f"catalogue at {args.catalogue_size} px: anchor into {anchor['into'] * 1e3:.0f} ms")
    catalogue(bands, anchor, args.catalogue_repeat)


if __name__ == "__main__":
    main()
