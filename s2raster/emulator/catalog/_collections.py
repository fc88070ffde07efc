"""The static parts of the Catalog API: landing page, conformance, collections."""

from __future__ import annotations

from typing import Any

from s2raster.emulator.catalog._item import PREFIX
from s2raster.emulator.catalog._search import iso
from s2raster.emulator.request import ARCHIVE_START, COLLECTIONS, not_found


def landing(base_url: str) -> dict[str, Any]:
    root = base_url + PREFIX
    return {
        "type": "Catalog",
        "id": "s2raster-emulator",
        "stac_version": "1.0.0",
        "description": "s2raster emulator catalog (synthetic data, not Sentinel-2 observations)",
        "conformsTo": conformance()["conformsTo"],
        "links": [
            {"rel": "self", "href": root, "type": "application/json"},
            {"rel": "search", "href": root + "/search", "type": "application/geo+json"},
            {"rel": "data", "href": root + "/collections", "type": "application/json"},
        ],
    }


def conformance() -> dict[str, Any]:
    return {
        "conformsTo": [
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/item-search",
            "https://api.stacspec.org/v1.0.0/item-search#context",
        ]
    }


def collections(base_url: str) -> dict[str, Any]:
    return {"collections": [collection(base_url, cid) for cid in COLLECTIONS], "links": []}


def collection(base_url: str, collection_id: str) -> dict[str, Any]:
    if collection_id not in COLLECTIONS:
        raise not_found(f"{PREFIX}/collections/{collection_id}")
    return {
        "stac_version": "1.0.0",
        "type": "Collection",
        "id": collection_id,
        "title": f"Sentinel 2 {COLLECTIONS[collection_id][2:]} (synthetic)",
        "description": "Synthetic acquisitions of the s2raster emulator",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[iso(ARCHIVE_START), None]]},
        },
        "links": [{"rel": "self", "href": f"{base_url}{PREFIX}/collections/{collection_id}"}],
    }
