"""No leftovers: a killed write's temporaries are removed by the next write to the same
target, a write under way elsewhere is left alone, and written files get the user's umask."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from s2raster._load import load
from s2raster.export import to_geotiff
from s2raster.grid import Grid
from s2raster.image import write_image
from s2raster.output import LOCK_NAME, remove_stale, temp_prefix
from s2raster.testing import FakeFetch

TIME = "2024-06-01/2024-06-30"
AREA = (13.80, 45.80, 13.81, 45.806)


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def stale_folder(target: Path, *, locked_by: list[int] | None = None) -> Path:
    """A temporary folder as a write to ``target`` leaves it (raw data and a lock file)."""
    folder = target.parent / f"{temp_prefix(target)}dead1234"
    folder.mkdir()
    (folder / "raw.tif").write_bytes(b"\0" * 4096)
    lock = folder / LOCK_NAME
    lock.write_bytes(b"")
    if locked_by is not None:  # a write under way: its lock is held
        fd = os.open(lock, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locked_by.append(fd)
    age(lock, 10)
    return folder


@pytest.fixture
def held() -> Iterator[list[int]]:
    fds: list[int] = []
    yield fds
    for fd in fds:
        os.close(fd)


def test_next_write_removes_a_dead_writes_folder(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    dead = stale_folder(target)
    da = load(AREA, TIME, ["B04"], fetch=FakeFetch(), cache=False)
    to_geotiff(da, target)
    assert not dead.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.tif"]


def test_a_write_under_way_is_left_alone(tmp_path: Path, held: list[int]) -> None:
    target = tmp_path / "out.tif"
    alive = stale_folder(target, locked_by=held)
    assert remove_stale(target) == 0
    assert alive.exists()
    young = tmp_path / f"{temp_prefix(target)}young"
    young.mkdir()
    (young / LOCK_NAME).write_bytes(b"")  # made a moment ago, not locked yet
    assert remove_stale(target) == 0
    other = tmp_path / f"{temp_prefix(tmp_path / 'other.tif')}dead"
    other.mkdir()
    age(other, 7200)
    assert remove_stale(target) == 0  # another target's temporaries are not ours
    assert other.exists()


def test_dead_temporary_files_of_a_png_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "rgb.png"
    leftover = tmp_path / f"{temp_prefix(target)}0123abcd.tmp"
    leftover.write_bytes(b"half a png")
    age(leftover, 10)
    grid = Grid.from_bbox_size(AREA, (8, 6))
    write_image(target, np.zeros((3, 6, 8), np.uint8), grid, synthetic=False)
    assert [p.name for p in tmp_path.iterdir()] == ["rgb.png"]


_KILLED_WRITER = """
import sys, time
import dask.array as dsa
import numpy as np
from s2raster import load
from s2raster.export import to_geotiff
from s2raster.testing import FakeFetch

da = load((13.80, 45.80, 13.83, 45.82), "2024-06-01/2024-06-30", ["B04"], tile_px=64,
          fetch=FakeFetch(), cache=False)

def slow(block):
    time.sleep(0.5)
    return block

da = da.copy(data=dsa.map_blocks(slow, da.data, dtype=da.dtype))
print("writing", flush=True)
to_geotiff(da, sys.argv[1])
"""


def test_kill_9_then_rerun_leaves_nothing(tmp_path: Path) -> None:
    """A to_geotiff killed with SIGKILL leaves its folder; the rerun removes it."""
    target = tmp_path / "out.tif"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        deadline = time.time() + 120
        while not list(tmp_path.glob(f"{temp_prefix(target)}*/raw.tif")):
            assert time.time() < deadline, "the writer never started writing"
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    leftovers = list(tmp_path.glob(f"{temp_prefix(target)}*"))
    assert leftovers  # what a killed write leaves
    assert not target.exists()
    for folder in leftovers:
        age(folder / LOCK_NAME, 10)  # the rerun comes later than the lock's grace window
    da = load(AREA, TIME, ["B04"], fetch=FakeFetch(), cache=False)
    to_geotiff(da, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.tif"]


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_get_the_umask(tmp_path: Path, umask_027: None) -> None:
    cache = tmp_path / "cache"
    da = load(AREA, TIME, ["B04"], fetch=FakeFetch(), cache=cache)
    to_geotiff(da, tmp_path / "b04.tif")
    grid = Grid.from_bbox_size(AREA, (8, 6))
    valid = np.ones((6, 8), bool)
    valid[0, 0] = False
    write_image(
        tmp_path / "rgb.png", np.zeros((3, 6, 8), np.uint8), grid, synthetic=False, valid=valid
    )
    written = [
        tmp_path / "b04.tif",
        tmp_path / "b04.json",
        tmp_path / "rgb.png",
        *cache.glob("??/*.tif"),
        *cache.glob("??/*.json"),
    ]
    assert len(written) >= 5
    assert {p.name: mode(p) for p in written} == {p.name: 0o640 for p in written}
