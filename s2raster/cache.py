"""An on-disk cache of tile responses: an identical request is downloaded once.

Each response is stored as ``<key>.tif`` plus a small JSON sidecar ``<key>.json`` (processing
units it cost, synthetic mark, creation time, base URL) under ``<directory>/<key[:2]>/``. The
key is the SHA-256 of the canonical JSON of (base URL, Process API payload): never
credentials, and the base URL keeps emulator tiles apart from CDSE ones. Writes are atomic
(a temporary file in the same directory, then ``os.replace``); the sidecar is written last,
so an entry without it is ignored. Cached tiles cost 0 PU.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from s2raster.errors import InputError
from s2raster.fetch import FetchResult


def cache_key(base_url: str, body: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``(base_url, body)``."""
    canonical = json.dumps(
        {"base_url": base_url.rstrip("/"), "payload": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_directory() -> Path:
    """The per-user cache directory (``platformdirs.user_cache_dir("s2raster")``)."""
    return Path(platformdirs.user_cache_dir("s2raster")) / "tiles"


@dataclass(frozen=True)
class CacheEntry:
    """A cached response: the file holding its bytes, and whether it is synthetic."""

    path: Path
    synthetic: bool


class TileCache:
    """Tile responses on disk under ``directory``, by :func:`cache_key`.

    ``suffix`` names the response files (``.tif`` for tiles; :data:`STATISTICS_SUFFIX` for
    Statistical API answers, which share the directory: their keys never collide).
    """

    def __init__(self, directory: str | os.PathLike[str], *, suffix: str = ".tif") -> None:
        self.directory = Path(directory).expanduser()
        if not suffix.startswith(".") or suffix == ".json":
            raise InputError(f"cache suffix must start with '.' and not be .json, got {suffix!r}")
        self.suffix = suffix

    def __repr__(self) -> str:
        extra = "" if self.suffix == ".tif" else f", suffix={self.suffix!r}"
        return f"TileCache({str(self.directory)!r}{extra})"

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.directory / key[:2]
        return folder / f"{key}{self.suffix}", folder / f"{key}.json"

    def contains(self, key: str) -> bool:
        """Whether a complete entry (its sidecar) exists for ``key``; reads nothing."""
        return self._paths(key)[1].is_file()

    def lookup(self, key: str) -> CacheEntry | None:
        """The complete entry for ``key`` (its file and synthetic mark), or None."""
        content_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            size = content_path.stat().st_size
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("size") != size:
            return None
        return CacheEntry(content_path, bool(meta.get("synthetic", False)))

    def discard(self, key: str) -> None:
        """Remove the entry for ``key`` (sidecar first, so it is never seen half-removed)."""
        content_path, meta_path = self._paths(key)
        meta_path.unlink(missing_ok=True)
        content_path.unlink(missing_ok=True)

    def put(self, key: str, result: FetchResult, *, base_url: str) -> None:
        """Store ``result`` under ``key`` (content first, then the sidecar; both atomic)."""
        content_path, meta_path = self._paths(key)
        content_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "size": len(result.content),
            "processing_units": result.processing_units,
            "synthetic": bool(result.synthetic),
            "created": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "base_url": base_url.rstrip("/"),
        }
        _atomic_write(content_path, result.content)
        _atomic_write(meta_path, json.dumps(meta, indent=1).encode("utf-8"))

    def clear(self) -> int:
        """Delete every cached entry; return how many responses were removed."""
        removed = 0
        for path in self.directory.glob(f"??/*{self.suffix}"):
            key = path.name[: -len(self.suffix)]
            path.unlink(missing_ok=True)
            (path.parent / f"{key}.json").unlink(missing_ok=True)
            removed += 1
        return removed


#: The suffix of cached Statistical API answers (JSON).
STATISTICS_SUFFIX = ".stats.json"

#: What ``load(cache=...)`` accepts.
CacheOption = bool | str | os.PathLike[str] | TileCache | None


def resolve_cache(cache: CacheOption) -> TileCache | None:
    """``True`` -> the user cache dir, a path -> there, a TileCache as is, False/None -> off."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return TileCache(default_directory())
    if isinstance(cache, TileCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return TileCache(cache)
    raise InputError(f"cache must be True, False, None or a directory path, got {cache!r}")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)  # os.replace: atomic within one directory
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
