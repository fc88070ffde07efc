"""A local ledger of the processing units spent: one line per answered request.

Each line of ``ledger.jsonl`` (beside the tile cache, in the user cache directory) is a
small JSON object ``{"time": ISO 8601 UTC, "pu": float, "service": base URL}``; nothing
else, never credentials (a URL's user info, query and fragment are dropped). Lines are
appended with ``O_APPEND`` in one ``write`` each, shorter than ``PIPE_BUF``, so concurrent
processes (several loads, ``distributed`` workers on one machine) never interleave them.
Synthetic (emulator) answers are not recorded: they cost nothing.

:func:`usage` sums a month per service, as ``s2raster usage`` shows it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from s2raster.errors import InputError

__all__ = ["Ledger", "LedgerOption", "ServiceUsage", "default_path", "resolve_ledger", "usage"]

#: The longest line appended (POSIX guarantees atomic appends up to PIPE_BUF, 512+ bytes).
MAX_LINE = 512


def default_path() -> Path:
    """``ledger.jsonl`` in the per-user cache directory, beside the ``tiles`` cache."""
    return Path(platformdirs.user_cache_dir("s2raster")) / "ledger.jsonl"


def service_name(url: str) -> str:
    """``url`` without user info, query or fragment (what the ledger stores)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class Ledger:
    """The ledger file at ``path`` (picklable: workers append to the same path)."""

    path: Path

    def record(self, pu: float, base_url: str, *, when: datetime | None = None) -> None:
        """Append one answered request of ``pu`` processing units at ``base_url``."""
        moment = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
        line = json.dumps(
            {
                "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "pu": round(float(pu), 6),
                "service": service_name(base_url)[:300],
            },
            separators=(",", ":"),
        )
        data = (line + "\n").encode("utf-8")[:MAX_LINE]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[tuple[datetime, float, str]]:
        """``(time, pu, service)`` of every well-formed line (damaged ones are skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                item = json.loads(line)
                when = datetime.fromisoformat(str(item["time"]).replace("Z", "+00:00"))
                yield when, float(item["pu"]), str(item["service"])
            except (ValueError, KeyError, TypeError):
                continue


@dataclass(frozen=True)
class ServiceUsage:
    """What one service was asked in a month: requests and PU."""

    service: str
    requests: int
    processing_units: float


def usage(ledger: Ledger, month: datetime | None = None) -> list[ServiceUsage]:
    """Requests and PU per service in the UTC calendar month of ``month`` (default: now)."""
    moment = (month or datetime.now(timezone.utc)).astimezone(timezone.utc)
    totals: dict[str, tuple[int, float]] = {}
    for when, pu, service in ledger.entries():
        when = when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
        if (when.year, when.month) != (moment.year, moment.month):
            continue
        n, total = totals.get(service, (0, 0.0))
        totals[service] = (n + 1, total + pu)
    return [ServiceUsage(s, n, pu) for s, (n, pu) in sorted(totals.items())]


#: What ``load(ledger=...)`` accepts: True (the default file), a path, a Ledger, False/None.
LedgerOption = bool | str | os.PathLike[str] | Ledger | None


def resolve_ledger(option: LedgerOption) -> Ledger | None:
    """``True`` -> :func:`default_path`, a path -> there, a Ledger as is, False/None -> off."""
    if option is None or option is False:
        return None
    if option is True:
        return Ledger(default_path())
    if isinstance(option, Ledger):
        return option
    if isinstance(option, (str, os.PathLike)):
        return Ledger(Path(option).expanduser())
    raise InputError(f"ledger must be True, False, None or a file path, got {option!r}")
