"""The Catalog API (STAC 1.0.0) over the synthetic acquisitions of :mod:`..earth`.

:func:`search` answers one page of ``POST``/``GET /api/v1/catalog/1.0.0/search``;
:func:`landing`, :func:`conformance`, :func:`collections` and :func:`collection` the
static documents. See :mod:`._search` for paging, ``distinct`` and ``fields``,
:mod:`._query` for the filters, :mod:`._item` for the items (shaped as CDSE's).

An item is one MGRS tile imaged by one pass; the overpass model is described in
:mod:`s2raster.emulator.earth`. Items come pass after pass, north to south within a pass;
their ``datetime`` carries milliseconds.

Places and dates to test time series against (``earth.acquisitions`` and this API give
exactly these; pinned by ``tests/emulator/test_emulator_timeseries.py``):

- Two passes on one solar day, 50 minutes apart (the swaths of 2A and 2B overlap north
  of about 78 deg): Ny-Alesund (11.93 E, 78.92 N) on 2024-06-01, at
  2024-06-01T12:39:12.974Z (S2A, relative orbit 95) and 13:29:02.946Z (S2B, 24), tile
  32XNN; Longyearbyen (15.63 E, 78.22 N) on 2024-06-02 at 12:09 and 12:59 UTC (33XWG).
  At 80 N, 179.5 E there are three a day (2024-06-01: 01:44, 02:34, 03:23 UTC, S2B R017,
  S2A R089, S2B R018: the first and last are consecutive revolutions, 100 min apart).
- Two passes of one solar day on two UTC days: 157 W, 79 N, solar day 2024-06-02, at
  2024-06-02T23:53:52.575Z (S2A, relative orbit 116) and 2024-06-03T00:43:42.280Z (S2B,
  45), tile 04XEN.
- One pass across UTC midnight (relative orbits 30, 73, 116): S2A R116 over 169.5 E,
  tile 59VMG at 2024-06-02T23:59:45.492Z and, 15 s later, 59VMF at
  2024-06-03T00:00:00.231Z (solar day 2024-06-03 for both).
- West of the antimeridian the UTC date is the solar day before: Fiji (178.4 E, 18.1 S)
  is imaged at 22:21 UTC (relative orbit 29, tile 60KXE, every 5 days from 2024-06-01).
- Mid-latitude overlap of adjacent tracks: the tile 33TVK (14.9 E, 44.9 N) is seen by
  relative orbits 79 and 122, 2 and 3 days apart, each every 5 days; two tiles of one
  pass, seconds apart: 33TVM and 33TVL at (14.4-14.6 E, 46.0-46.1 N), which lie in the
  9.8 km overlap of the two (tiles overlap as real ones: a pixel there is in both).
"""

from __future__ import annotations

from s2raster.emulator.catalog._collections import collection, collections, conformance, landing
from s2raster.emulator.catalog._item import PREFIX, item
from s2raster.emulator.catalog._search import query_params, search

__all__ = [
    "PREFIX",
    "collection",
    "collections",
    "conformance",
    "item",
    "landing",
    "query_params",
    "search",
]
