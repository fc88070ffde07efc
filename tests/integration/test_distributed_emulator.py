"""A load computed on a ``distributed`` cluster of 2 worker processes, against the emulator.

The emulator runs in this process on 127.0.0.1; the workers reach it over loopback and find
the credentials in their environment (set before the cluster starts), never in the graph.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cloudpickle
import numpy as np
import pytest

from s2raster._load import LoadStats, load
from s2raster.plan import make_plan

if TYPE_CHECKING:
    from distributed import Client

    from s2raster.emulator import Emulator

import distributed

BBOX = (13.80, 45.85, 13.84, 45.87)  # ~310 x 230 px at 10 m
TIME = "2024-06-01/2024-06-30"
BANDS = ["B04", "B08", "SCL"]
TILE_PX = 128  # 3 x 2 tiles


@pytest.fixture(scope="module")
def cluster_env(emulator: Emulator) -> Iterator[None]:
    """The emulator's credentials in the environment the worker processes inherit."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SH_CLIENT_ID", emulator.client_id)
        mp.setenv("SH_CLIENT_SECRET", emulator.client_secret)
        yield


@pytest.fixture(scope="module")
def client(cluster_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    # Workers start with the module-scoped environment (the autouse fixture clears it for
    # each test in this process only: the workers keep theirs).
    workdir = tmp_path_factory.mktemp("dask-worker-space")
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        local_directory=str(workdir),
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


def _load(emulator: Emulator, **kwargs: Any) -> Any:
    return load(
        BBOX, TIME, BANDS, config=emulator.config(), tile_px=TILE_PX, ledger=False, **kwargs
    )


def test_values_are_bit_identical_to_the_threaded_scheduler(
    emulator: Emulator, client: Client
) -> None:
    threaded = _load(emulator, cache=False).compute(scheduler="threads")
    on_cluster = _load(emulator, cache=False).compute()  # the default client
    assert on_cluster.dtype == np.float32
    assert np.array_equal(
        threaded.values.view(np.uint32), on_cluster.values.view(np.uint32)
    )  # NaN patterns included
    workers = client.run(os.getpid)
    assert len(set(workers.values()) - {os.getpid()}) == 2  # two other processes


def test_uint16_on_the_cluster_equals_float32(emulator: Emulator, client: Client) -> None:
    f32 = _load(emulator, cache=False).compute()
    u16 = _load(emulator, cache=False, sample_type="UINT16").compute()
    assert np.array_equal(f32.values.view(np.uint32), u16.values.view(np.uint32))


def test_the_graph_pickles_without_any_credential(emulator: Emulator, client: Client) -> None:
    da = _load(emulator, cache=False)
    graph = dict(da.data.__dask_graph__())
    secrets = [emulator.client_secret.encode(), emulator.client_id.encode()]
    for blob in (
        pickle.dumps(graph),
        cloudpickle.dumps(graph),
        cloudpickle.dumps(da),
        pickle.dumps(da),
    ):
        for secret in secrets:
            assert secret not in blob
    for value in graph.values():
        assert emulator.client_secret not in repr(value)
    for key in graph:
        assert emulator.client_secret not in str(key)


def test_one_task_per_tile(emulator: Emulator) -> None:
    da = _load(emulator, cache=False)
    plan = make_plan(BBOX, TIME, BANDS, tile_px=TILE_PX)
    assert len(dict(da.data.__dask_graph__())) == len(plan.requests) == 6


def test_stats_and_the_shared_cache_from_the_workers(
    emulator: Emulator, client: Client, tmp_path: Path
) -> None:
    first, again = LoadStats(), LoadStats()
    a = _load(emulator, cache=tmp_path, stats=first).compute()
    assert first.requests == 6
    assert first.cache_hits == 0
    assert first.synthetic
    assert first.processing_units_spent == pytest.approx(
        make_plan(BBOX, TIME, BANDS, tile_px=TILE_PX).estimated_pu
    )
    before = len(emulator.log)
    b = _load(emulator, cache=tmp_path, stats=again).compute()
    assert (again.requests, again.cache_hits) == (0, 6)
    assert [r for r in list(emulator.log)[before:] if r.path.endswith("/process")] == []
    assert np.array_equal(a.values.view(np.uint32), b.values.view(np.uint32))


def test_progress_is_reported_in_the_callers_process(emulator: Emulator, client: Client) -> None:
    seen: list[object] = []
    _load(emulator, cache=False, progress=seen.append).compute()
    assert len(seen) == 6


def test_a_worker_with_other_credentials_refuses(
    emulator: Emulator, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fingerprint in the graph catches a worker whose credentials are another client's
    (shown here on a worker whose environment is changed, then restored)."""
    from s2raster.errors import CredentialsError

    def swap(value: str | None) -> str | None:
        old = os.environ.get("SH_CLIENT_SECRET")
        if value is None:
            os.environ.pop("SH_CLIENT_SECRET", None)
        else:
            os.environ["SH_CLIENT_SECRET"] = value
        return old

    old = client.run(swap, "another-secret")
    try:
        da = _load(emulator, cache=False, concurrency=3)  # another spec: rebuilt on workers
        with pytest.raises(CredentialsError, match="not the OAuth client the load was made"):
            da.compute()
    finally:
        for worker, value in old.items():
            client.run(swap, value, workers=[worker])


def test_to_geotiff_on_the_cluster_writes_the_same_cog(
    emulator: Emulator, client: Client, tmp_path: Path
) -> None:
    """Blocks computed by the workers, compressed and laid out in this process."""
    import rasterio
    from rio_cogeo.cogeo import cog_validate

    from s2raster.export import to_geotiff

    da = _load(emulator, cache=tmp_path / "cache")
    on_cluster = to_geotiff(da, tmp_path / "cluster.tif")
    load_id = next(iter(dict(da.data.__dask_graph__()).values()))[0].reader.load_id

    def knows(load: str) -> bool:
        from s2raster import _runtime

        return load in _runtime._remote

    assert any(client.run(knows, load_id).values())  # the tiles were read on the workers
    import dask

    with dask.config.set(scheduler="threads"):
        threaded = to_geotiff(da, tmp_path / "threads.tif")
    assert cog_validate(on_cluster, quiet=True)[0]
    with rasterio.open(on_cluster) as a, rasterio.open(threaded) as b:
        assert np.array_equal(a.read(), b.read(), equal_nan=True)


def test_blocks_come_over_in_pieces_and_write_the_same_cog(
    emulator: Emulator, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each block sent to the writer in pieces of 64 rows (cut at multiples of 64)."""
    import dask
    import rasterio
    from rio_cogeo.cogeo import cog_validate

    from s2raster import _feed
    from s2raster.export import to_geotiff

    da = _load(emulator, cache=tmp_path / "cache")
    assert max(da.chunks[1]) > 64  # so blocks are cut
    monkeypatch.setattr(_feed, "STRIP_BYTES", 1)  # pieces of one COG block of rows
    on_cluster = to_geotiff(da, tmp_path / "cluster.tif", blocksize=64)
    with dask.config.set(scheduler="threads"):
        threaded = to_geotiff(da, tmp_path / "threads.tif", blocksize=64)
    assert cog_validate(on_cluster, quiet=True)[0]
    with rasterio.open(on_cluster) as a, rasterio.open(threaded) as b:
        assert np.array_equal(a.read(), b.read(), equal_nan=True)
        assert a.overviews(1) == b.overviews(1)
        with (
            rasterio.open(on_cluster, OVERVIEW_LEVEL=0) as ao,
            rasterio.open(threaded, OVERVIEW_LEVEL=0) as bo,
        ):
            assert np.array_equal(ao.read(), bo.read(), equal_nan=True)


def test_the_cluster_computes_only_a_few_blocks_ahead_of_the_writer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many blocks, one per worker thread is submitted before the writer has taken
    it (else the workers hold every block the writer is slow to take)."""
    import dask.array as dsa

    from s2raster._feed import feed

    window = max(2, sum(client.nthreads().values()))
    submitted: list[int] = []
    compute = client.compute

    def counting(parts: list[object]) -> object:
        submitted.append(len(parts))
        return compute(parts)

    monkeypatch.setattr(client, "compute", counting)
    data = dsa.random.default_rng(1).random((2, 96, 96), chunks=(2, 16, 16)).astype("f4")

    class Target:
        shape = (2, 96, 96)

        def __init__(self) -> None:
            self.written: list[int] = []  # sizes of the pieces written, 2 per block

        def __setitem__(self, key: tuple[slice, slice, slice], value: np.ndarray) -> None:
            blocks_written = len(self.written) // 2
            assert len(submitted) <= blocks_written + window + 3  # + pieces being written
            self.written.append(value.size)

        def close(self) -> None:
            pass

    target = Target()
    feed(data, target, strip_rows=8)
    assert len(submitted) == 36  # one compute per block, each of its 2 pieces
    assert set(submitted) == {2}
    assert sum(target.written) == data.size


def test_a_time_series_on_the_cluster_equals_the_threaded_one(
    emulator: Emulator, client: Client
) -> None:
    """One task per (date, tile); the same values as on the threaded scheduler."""
    kwargs = {"cache": False, "groupby": "solar_day"}
    series = load(BBOX, "2024-06-01/2024-06-20", ["B04"], config=emulator.config(),
                  tile_px=TILE_PX, ledger=False, **kwargs)  # fmt: skip
    graph = dict(series.data.__dask_graph__())
    assert len(graph) == series.sizes["time"] * 6
    for secret in (emulator.client_secret.encode(), emulator.client_id.encode()):
        assert secret not in cloudpickle.dumps(graph)
    on_cluster = series.compute()
    threaded = series.compute(scheduler="threads")
    assert np.array_equal(on_cluster.values.view(np.uint32), threaded.values.view(np.uint32))
