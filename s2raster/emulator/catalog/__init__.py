"""The Catalog API (STAC 1.0.0) over the synthetic acquisitions of :mod:`..earth`.

:func:`search` answers one page of ``POST``/``GET /api/v1/catalog/1.0.0/search``;
:func:`landing`, :func:`conformance`, :func:`collections` and :func:`collection` the
static documents. See :mod:`._search` for the paging and :mod:`._query` for the filters.
"""

from __future__ import annotations

from s2raster.emulator.catalog._collections import collection, collections, conformance, landing
from s2raster.emulator.catalog._search import PREFIX, item, query_params, search

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
