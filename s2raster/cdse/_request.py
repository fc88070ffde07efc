"""The sentinelhub-py request of a tile (pure: builds objects, sends nothing).

:func:`build_request` makes the :class:`sentinelhub.SentinelHubRequest` whose payload equals
:func:`s2raster.evalscript.payload`. sentinelhub-py's ``DataCollection.SENTINEL2_L2A``
carries its own service URL (services.sentinel-hub.com), which would win over
``SHConfig.sh_base_url``; so the request's input is bound to the configured base URL. It is
bound on the request's input (``InputDataDict.service_url``) rather than through
``DataCollection.define_from``, which registers a name for the (collection, URL) pair in a
process-wide enum and then makes any later ``define_from`` of the same pair under another
name fail (for example a user's own binding to CDSE). :func:`bound_input` does that for
any request; :func:`bound_collection` is there for code that needs a ``DataCollection``.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from sentinelhub.api.base_request import InputDataDict
from sentinelhub.api.process import SentinelHubRequest
from sentinelhub.config import SHConfig
from sentinelhub.constants import CRS, MimeType, MosaickingOrder, ResamplingType
from sentinelhub.data_collections import DataCollection
from sentinelhub.geometry import BBox, Geometry

from s2raster.errors import InputError
from s2raster.evalscript import OUTPUT_ID, evalscript
from s2raster.plan import TileRequest

_COLLECTIONS = {"sentinel-2-l2a": "SENTINEL2_L2A", "sentinel-2-l1c": "SENTINEL2_L1C"}
_collection_lock = threading.Lock()
_collections: dict[tuple[str, str], DataCollection] = {}


def bound_collection(collection: str, base_url: str) -> DataCollection:
    """The sentinelhub-py collection bound to ``base_url`` (its own URL would win otherwise).

    Registered once per (collection, URL) with ``define_from`` (a process-wide name), or the
    existing definition reused if someone else registered it first.
    """
    if collection not in _COLLECTIONS:
        raise InputError(
            f"unknown collection {collection!r}; use one of: {', '.join(_COLLECTIONS)}"
        )
    url = base_url.rstrip("/")
    with _collection_lock:
        found = _collections.get((collection, url))
        if found is None:
            base = DataCollection[_COLLECTIONS[collection]]
            digest = hashlib.sha256(url.encode()).hexdigest()[:16].upper()
            name = f"S2RASTER_{_COLLECTIONS[collection]}_{digest}"
            try:
                found = base.define_from(name, service_url=url)
            except ValueError:  # the same definition exists under another name
                found = DataCollection(base.value.derive(service_url=url))
            _collections[(collection, url)] = found
        return found


def bound_input(input_data: dict[str, Any], base_url: str) -> InputDataDict:
    """``input_data`` (from ``SentinelHubRequest.input_data``) bound to ``base_url``.

    The request then goes to ``base_url`` whatever the collection's own URL, and nothing is
    registered process-wide (unlike ``DataCollection.define_from``).
    """
    return InputDataDict(dict(input_data), service_url=base_url.rstrip("/"))


def build_request(request: TileRequest, config: SHConfig) -> SentinelHubRequest:
    """The sentinelhub-py request for one tile (its payload equals evalscript.payload)."""
    query, grid = request.query, request.tile.grid
    # maxCloudCoverage as given: sentinelhub-py's maxcc= would send int(maxcc * 100),
    # which turns 29 into 28.
    extra = {"dataFilter": {"maxCloudCoverage": query.max_cloud}}
    if query.collection not in _COLLECTIONS:
        raise InputError(
            f"unknown collection {query.collection!r}; use one of: {', '.join(_COLLECTIONS)}"
        )
    input_data = SentinelHubRequest.input_data(
        data_collection=DataCollection[_COLLECTIONS[query.collection]],
        time_interval=(query.time_from, query.time_to),
        mosaicking_order=MosaickingOrder(query.mosaicking),
        upsampling=ResamplingType(query.upsampling),
        downsampling=ResamplingType(query.downsampling),
        other_args=extra if query.max_cloud is not None else None,
    )
    crs = CRS(int(grid.crs.split(":")[1]))
    geometry = None if request.geometry is None else Geometry(request.geometry, crs=crs)
    return SentinelHubRequest(
        evalscript=evalscript(query.bands, query.collection, query.sample_type),
        input_data=[bound_input(input_data, config.sh_base_url)],
        responses=[SentinelHubRequest.output_response(OUTPUT_ID, MimeType.TIFF)],
        bbox=BBox(grid.bounds, crs=crs),
        geometry=geometry,
        size=(grid.width, grid.height),
        config=config,
    )
