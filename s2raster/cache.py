"""An on-disk cache of tile responses: an identical request is downloaded once.

Each response is stored as ``<key>.tif`` plus a small JSON sidecar ``<key>.json`` (its size
and SHA-256, processing units it cost, synthetic mark, creation time, base URL) under
``<directory>/<key[:2]>/``. The key is the SHA-256 of the canonical JSON of (base URL,
Process API payload): never credentials, and the base URL keeps emulator tiles apart from
CDSE ones. Writes are atomic (a temporary file in the same directory, then ``os.replace``);
the sidecar is written last, so an entry without it is ignored. Cached tiles cost 0 PU.

A cache that cannot lie: :meth:`TileCache.verify` compares an entry's bytes with the
SHA-256 of its sidecar before they are used; an entry that does not match (a flipped bit,
a truncated copy, an entry from before checksums) is logged, removed and fetched again.
While a tile is being fetched, a lock file per key (``<key>.lock``, POSIX ``flock``) makes
another process that wants the same tile wait for it instead of paying for it twice.

The cache is bounded by ``max_bytes`` (least recently used entries go first: a hit
touches its sidecar). :meth:`TileCache.info` and :meth:`TileCache.clear` back
``s2raster cache info|clear``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from s2raster.errors import InputError
from s2raster.fetch import FetchResult
from s2raster.output import TEMP_MARK, atomic_file

try:
    import fcntl

    HAS_FLOCK = True
except ImportError:  # pragma: no cover - Windows: no per-key lock, a tile may be fetched twice
    HAS_FLOCK = False

log = logging.getLogger(__name__)

#: Bytes hashed at a time when an entry is verified.
_CHUNK = 4 * 2**20


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
    sha256: str = ""


@dataclass(frozen=True)
class CacheInfo:
    """What :meth:`TileCache.info` found: entries, their bytes, ages, leftover temporaries."""

    directory: Path
    entries: int
    bytes: int
    oldest: datetime | None
    newest: datetime | None
    temporary: int
    max_bytes: int | None


class TileCache:
    """Tile responses on disk under ``directory``, by :func:`cache_key`; at most
    ``max_bytes`` of them (None: no limit), the least recently used evicted first.

    ``suffix`` names the response files (``.tif`` for tiles; :data:`STATISTICS_SUFFIX` for
    Statistical API answers, which share the directory: their keys never collide).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        suffix: str = ".tif",
        max_bytes: int | None = None,
    ) -> None:
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0
        ):
            raise InputError(f"max_bytes must be a number of bytes (or None), got {max_bytes!r}")
        if not suffix.startswith(".") or suffix == ".json":
            raise InputError(f"cache suffix must start with '.' and not be .json, got {suffix!r}")
        self.directory = Path(directory).expanduser()
        self.suffix = suffix
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        extra = "" if self.suffix == ".tif" else f", suffix={self.suffix!r}"
        limit = "" if self.max_bytes is None else f", max_bytes={self.max_bytes}"
        return f"TileCache({str(self.directory)!r}{extra}{limit})"

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.directory / key[:2]
        return folder / f"{key}{self.suffix}", folder / f"{key}.json"

    def contains(self, key: str) -> bool:
        """Whether a complete entry (its sidecar) exists for ``key``; reads nothing."""
        return self._paths(key)[1].is_file()

    def lookup(self, key: str) -> CacheEntry | None:
        """The complete entry for ``key`` (its file and synthetic mark), or None.

        Cheap (the sidecar and a ``stat``); :meth:`verify` checks the bytes themselves.
        """
        content_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            size = content_path.stat().st_size
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("size") != size:
            return None
        synthetic = bool(meta.get("synthetic", False))
        return CacheEntry(content_path, synthetic, str(meta.get("sha256", "")))

    def verify(self, key: str, entry: CacheEntry) -> bool:
        """Whether ``entry``'s bytes have the SHA-256 of its sidecar; if not, the entry is
        logged and removed (the caller fetches the tile again). Marks the entry as used."""
        digest = hashlib.sha256()
        try:
            with entry.path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        except OSError:
            return False
        if digest.hexdigest() == entry.sha256:
            _touch(self._paths(key)[1])
            return True
        log.warning(
            "tile cache entry %s does not match its checksum (damaged on disk, or written "
            "before checksums); removed, the tile is fetched again",
            entry.path,
        )
        self.discard(key)
        return False

    def discard(self, key: str) -> None:
        """Remove the entry for ``key`` (sidecar first, so it is never seen half-removed)."""
        content_path, meta_path = self._paths(key)
        meta_path.unlink(missing_ok=True)
        content_path.unlink(missing_ok=True)

    def put(self, key: str, result: FetchResult, *, base_url: str) -> None:
        """Store ``result`` under ``key`` (content first, then the sidecar with the content's
        SHA-256; both atomic), then evict down to ``max_bytes``."""
        content_path, meta_path = self._paths(key)
        content_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "size": len(result.content),
            "sha256": hashlib.sha256(result.content).hexdigest(),
            "processing_units": result.processing_units,
            "synthetic": bool(result.synthetic),
            "created": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "base_url": base_url.rstrip("/"),
        }
        with atomic_file(content_path, clean=False) as f:
            f.write(result.content)
        with atomic_file(meta_path, clean=False) as f:
            f.write(json.dumps(meta, indent=1).encode("utf-8"))
        if self.max_bytes is not None:
            self.evict(self.max_bytes, keep=key)

    @contextmanager
    def fetching(self, key: str) -> Iterator[None]:
        """Hold ``key``'s lock while its tile is fetched: another process (or thread) asking
        for the same key waits here, then finds the entry (look it up again inside)."""
        if not HAS_FLOCK:
            yield
            return
        lock_path = self._paths(key)[0].with_suffix(".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:  # an unwritable cache: no lock (storing will warn)
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            # Unlinked while still held: a process that opened it meanwhile gets the lock
            # next and finds the entry stored; one that opens it later makes a new file.
            lock_path.unlink(missing_ok=True)
            os.close(fd)

    def _entries(self) -> Iterator[tuple[str, Path, Path]]:
        for meta_path in self.directory.glob("??/*.json"):
            if not _SIDECAR.match(meta_path.name):
                continue  # a response file of another kind (e.g. .stats.json)
            key = meta_path.stem
            content = self._paths(key)[0]
            if content.exists():  # entries of this cache's kind only
                yield key, content, meta_path

    def info(self) -> CacheInfo:
        """Entries, their total size, the oldest and newest use, leftover temporaries."""
        count, total, times = 0, 0, []
        for _, content_path, meta_path in self._entries():
            try:
                total += content_path.stat().st_size + meta_path.stat().st_size
                times.append(meta_path.stat().st_mtime)
            except OSError:
                continue
            count += 1
        temporary = sum(1 for _ in self.directory.glob(f"??/*{TEMP_MARK}*"))

        def moment(t: float) -> datetime:
            return datetime.fromtimestamp(t, timezone.utc)

        return CacheInfo(
            directory=self.directory,
            entries=count,
            bytes=total,
            oldest=moment(min(times)) if times else None,
            newest=moment(max(times)) if times else None,
            temporary=temporary,
            max_bytes=self.max_bytes,
        )

    def clear(self, *, older_than: float | None = None) -> int:
        """Delete the entries not used for ``older_than`` seconds (None: all), and any
        leftover temporary and lock files as old; return how many entries were removed."""
        limit = None if older_than is None else time.time() - older_than
        removed = 0
        for key, _, meta_path in list(self._entries()):
            if limit is None or _mtime(meta_path) <= limit:
                self.discard(key)
                removed += 1
        # Orphans (a content file without sidecar, temporaries, locks) of writes that died:
        # only those older than an hour, so a write under way elsewhere is left alone.
        stale = time.time() - 3600
        for pattern in (f"??/*{self.suffix}", f"??/*{TEMP_MARK}*", "??/*.lock"):
            for path in self.directory.glob(pattern):
                if path.name.endswith(self.suffix) and (path.parent / _sidecar(path)).exists():
                    continue
                moment = _mtime(path)
                if moment <= stale and (limit is None or moment <= limit):
                    path.unlink(missing_ok=True)
        return removed

    def evict(self, max_bytes: int, *, keep: str | None = None) -> int:
        """Remove least recently used entries until at most ``max_bytes`` remain (never
        ``keep``); return how many were removed."""
        sized = []
        for key, content_path, meta_path in self._entries():
            try:
                size = content_path.stat().st_size + meta_path.stat().st_size
                sized.append((meta_path.stat().st_mtime, key, size))
            except OSError:
                continue
        total = sum(size for _, _, size in sized)
        removed = 0
        for _, key, size in sorted(sized):
            if total <= max_bytes:
                break
            if key == keep:
                continue
            self.discard(key)
            total -= size
            removed += 1
        return removed


#: The suffix of cached Statistical API answers (JSON).
STATISTICS_SUFFIX = ".stats.json"
#: A sidecar's name: the key (64 hex digits) and ``.json``.
_SIDECAR = re.compile(r"^[0-9a-f]{64}\.json$")


def _sidecar(content: Path) -> str:
    return content.name.split(".", 1)[0] + ".json"


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache still serves hits
        os.utime(path)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


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
