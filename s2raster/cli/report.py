"""Plain-text reports of the CLI: a plan, a finished fetch, a configuration.

Pure formatting: no network, no credentials (a secret is never read into a report).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2raster.contract import FREE_QUOTA
from s2raster.errors import InputError

if TYPE_CHECKING:
    from s2raster._load import LoadStats
    from s2raster.cache import CacheInfo
    from s2raster.cost import QuotaShare
    from s2raster.fieldstats import StatsDone, StatsPlan
    from s2raster.grid import Grid
    from s2raster.job import Estimate
    from s2raster.ledger import ServiceUsage
    from s2raster.plan import Plan

SYNTHETIC_LINE = "SYNTHETIC: data from the local s2raster emulator, not Sentinel-2 observations."


def human_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _pct(fraction: float) -> str:
    return f"{fraction:.2%}" if fraction < 0.1 else f"{fraction:.0%}"


def grid_line(grid: Grid) -> str:
    """``EPSG:32633, 5751 x 4959 px at 10 m, bounds (...)``."""
    rx, ry = grid.res
    unit = "°" if grid.pyproj_crs.is_geographic else " m"
    res = f"{rx:g}{unit}" if rx == ry else f"{rx:g} x {ry:g}{unit}"
    bounds = ", ".join(f"{v:.6g}" if abs(v) < 1000 else f"{v:.1f}" for v in grid.bounds)
    return f"{grid.crs}, {grid.width} x {grid.height} px at {res}, bounds ({bounds})"


def centre_text(grid: Grid) -> str:
    """``lon 14.4750, lat 46.0350``: the centre of the grid in lon/lat (a swapped bbox shows)."""
    west, south, east, north = grid.lonlat_bounds
    return f"lon {(west + east) / 2:.4f}, lat {(south + north) / 2:.4f}"


def other_sample_type(sample_type: str) -> str:
    """The sample type a job could use instead (for the cost comparison)."""
    return "FLOAT32" if sample_type == "UINT16" else "UINT16"


def plan_lines(plan: Plan) -> list[str]:
    """What a job will do: grid, tiles, bands, processing units, bytes, free-quota share."""
    rows = max(t.index_row for t in plan.tiles) + 1
    cols = max(t.index_col for t in plan.tiles) + 1
    quota = plan.quota
    query = plan.query
    per = " per date" if plan.groupby is not None else ""
    lines = [
        f"grid:       {grid_line(plan.grid)}",
        f"centre:     {centre_text(plan.grid)} (lon/lat)",
        f"tiles:      {len(plan.tiles)} ({rows} x {cols}), one Process API request each{per}",
        *date_lines(plan),
        f"bands:      {','.join(query.bands)} ({query.collection}, {query.mosaicking})",
        f"estimated:  {plan.estimated_pu:.2f} processing units ({query.sample_type} "
        f"responses), up to {human_bytes(plan.download_bytes)} to download",
        f"            {other_sample_type(query.sample_type)} responses (--sample-type "
        f"{other_sample_type(query.sample_type)}): "
        f"{plan.estimated_pu_as(other_sample_type(query.sample_type)):.2f} processing units",
        f"free quota: {_pct(quota.minute_pu)} of the {FREE_QUOTA['pu_per_minute']:g} PU and "
        f"{_pct(quota.minute_requests)} of the {FREE_QUOTA['requests_per_minute']} requests "
        "a minute;",
        f"            {_pct(quota.month_pu)} of the {FREE_QUOTA['pu_per_month']:,.0f} PU and "
        f"{_pct(quota.month_requests)} of the {FREE_QUOTA['requests_per_month']:,} requests "
        "a month",
    ]
    minutes = math.ceil(max(quota.minute_pu, quota.minute_requests))
    if minutes > 1:
        lines.append(
            f"            above the per-minute quota: at least {minutes} minutes on a free "
            "account (the service throttles with HTTP 429)"
        )
    if quota.month_pu > 1 or quota.month_requests > 1:
        lines.append("            above the monthly free quota")
    return lines


def date_lines(plan: Plan) -> list[str]:
    """``dates: 18 (solar_day), 2024-06-03 .. 2024-08-27: 72 requests`` for a series."""
    if plan.groupby is None:
        return []
    n = len(plan.dates)
    span = f", {plan.dates[0].solar_day} .. {plan.dates[-1].solar_day}" if n else ""
    return [f"dates:      {n} ({plan.groupby}){span}: {len(plan.requests)} requests in all"]


def plan_report(plan: Plan) -> str:
    """The plan as text, with a note when a fetch of it would need --yes."""
    from s2raster.plan import MAX_PIXELS, needs_confirmation

    lines = plan_lines(plan)
    if needs_confirmation(plan):
        lines.append(
            f"            above {MAX_PIXELS / 1e6:.0f} million px per band: fetch needs --yes"
        )
    return "\n".join(lines)


def estimate_line(plan: Plan, cost: Estimate) -> str:
    """One line before a download: what the requests not in the cache will cost, their
    share of the free quota, the other sample type's cost, the output CRS and the centre."""
    n = cost.requests
    minute = cost.pu / FREE_QUOTA["pu_per_minute"]
    month = cost.pu / FREE_QUOTA["pu_per_month"]
    cached = f", {cost.cached} more cached (free)" if cost.cached else ""
    if plan.groupby:
        cached = f", {len(plan.dates)} date(s) x {len(plan.tiles)} tile(s){cached}"
    other = other_sample_type(plan.query.sample_type)
    return (
        f"Estimated cost: {cost.pu:.2f} processing units for {n} "
        f"request{'' if n == 1 else 's'}{cached} ({_pct(minute)} of a free account's "
        f"{FREE_QUOTA['pu_per_minute']:g} PU a minute, {_pct(month)} of its "
        f"{FREE_QUOTA['pu_per_month']:,.0f} a month; {other} responses: "
        f"{cost.pu_by_sample_type[other]:.2f}); output {plan.grid.crs}, centre "
        f"{centre_text(plan.grid)}"
    )


def cost_line(pu: float, n: int, quota: QuotaShare) -> str:
    """The estimated cost of ``n`` requests (e.g. statistics) and its share of the quota."""
    return (
        f"Estimated cost: {pu:.2f} processing units for {n} "
        f"request{'' if n == 1 else 's'} ({_pct(quota.minute_pu)} of a free account's "
        f"{FREE_QUOTA['pu_per_minute']:g} PU a minute, {_pct(quota.month_pu)} of its "
        f"{FREE_QUOTA['pu_per_month']:,.0f} a month; cached responses cost nothing)"
    )


def fetch_lines(
    *,
    path: Path,
    grid: Grid,
    bands: Sequence[str],
    tiles: int,
    stats: LoadStats,
    synthetic: bool,
) -> list[str]:
    """The summary of a finished fetch: output, size, CRS, tiles, PU spent, cache hits."""
    lines = [
        f"{path}: {grid.width} x {grid.height} px, {grid.crs}, {len(bands)} band(s) "
        f"({','.join(bands)}), {tiles} tile(s), "
        f"{stats.processing_units_spent:.2f} processing units spent, "
        f"{stats.cache_hits} cache hit(s)"
    ]
    if synthetic:
        lines.append(SYNTHETIC_LINE)
    return lines


def stats_plan_line(plan: StatsPlan) -> str:
    """What a statistics job is: zones, intervals, the path."""
    how = "from pixels (Process API tiles, --local)" if plan.local else "by the Statistical API"
    return f"{plan.zones} zone(s) x {plan.intervals} interval(s), {how}"


def stats_lines(done: StatsDone) -> list[str]:
    """The summary of a finished ``stats``: file, rows, requests, PU spent, cache hits."""
    usage = done.usage
    lines = [
        f"{done.path}: {done.rows} rows, {usage.requests} request(s), "
        f"{usage.processing_units_spent:.2f} processing units spent, "
        f"{usage.cache_hits} cache hit(s)"
    ]
    if done.synthetic:
        lines.append(SYNTHETIC_LINE)
    return lines


def series_lines(
    *, paths: Sequence[Path], dates: int, composite: str | None, cloud_mask: bool
) -> list[str]:
    """What a series fetch wrote: the files per date, or the composite of how many dates."""
    masked = ", clouds masked (SCL)" if cloud_mask else ""
    if composite is not None:
        return [f"{paths[0]}: {composite} of {dates} date(s){masked}"]
    if not paths:
        return []
    first, last = paths[0], paths[-1]
    span = f"{first}" if len(paths) == 1 else f"{first} .. {last.name}"
    return [f"{len(paths)} file(s), one per date{masked}: {span}"]


def dates_lines(frame: Any, *, groupby: str | None) -> list[str]:
    """The table of ``s2raster dates`` and a summary line (a pandas DataFrame in)."""
    if frame.empty:
        return []
    shown = frame.assign(
        solar_day=frame["solar_day"].dt.strftime("%Y-%m-%d"),
        time=frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z",
        cloud_cover=frame["cloud_cover"].map(lambda v: "" if v != v else f"{v:.1f}"),
    )
    what = "catalog items" if groupby is None else f"dates ({groupby})"
    items = int(frame["acquisitions"].sum())
    return [
        *shown.to_string(index=False).splitlines(),
        f"{len(frame)} {what}, {items} acquisition(s); nothing downloaded, no processing units",
    ]


def dates_line(dates: Sequence[str], mosaicking: str) -> str:
    """The acquisition dates a mosaic drew from, and which of them wins per pixel."""
    order = {
        "leastCC": "the least cloudy wins per pixel",
        "mostRecent": "the most recent wins per pixel",
        "leastRecent": "the oldest wins per pixel",
    }.get(mosaicking, mosaicking)
    shown = ", ".join(dates[:12]) + (f" and {len(dates) - 12} more" if len(dates) > 12 else "")
    return f"dates:      {shown or 'none'} ({mosaicking}: {order})"


def mask_id(client_id: str) -> str:
    """The first characters of an OAuth client id, enough to recognise it."""
    shown = client_id[:6]
    return f"{shown}… ({len(client_id)} characters)" if len(client_id) > 6 else "(short id)"


#: One ``name: value`` line of ``config check``.
FIELD = "{:<14} {}"


def endpoint_lines(base_url: str, token_url: str, *, synthetic: bool = False) -> list[str]:
    """The Process API and token endpoints (and whether they are the emulator's)."""
    lines = [FIELD.format("Process API:", base_url), FIELD.format("token URL:", token_url)]
    if synthetic:
        lines.append(FIELD.format("note:", SYNTHETIC_LINE))
    return lines


def credential_source(profile: str | None) -> str:
    """Where :func:`s2raster.cdse.cdse_config` found the client id (env or profile)."""
    if os.environ.get("SH_CLIENT_ID"):
        return "environment SH_CLIENT_ID / SH_CLIENT_SECRET"
    return f"sentinelhub profile {profile!r}" if profile else "the default sentinelhub profile"


def credential_lines(client_id: str, source: str) -> list[str]:
    """Client id (shortened), where it came from; the secret only as 'found'."""
    return [
        FIELD.format("client id:", f"{mask_id(client_id)} from {source}"),
        FIELD.format("client secret:", "found (not shown)"),
    ]


def expiry(seconds: float | None) -> str:
    """`` (valid for 600 s)`` or nothing."""
    return f" (valid for {seconds:.0f} s)" if seconds is not None else ""


def parse_month(month: str | None) -> datetime:
    """``"2024-06"`` -> 2024-06-01 UTC; None -> now."""
    if month is None:
        return datetime.now(timezone.utc)
    try:
        return datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
    except ValueError:
        raise InputError(f"--month must be YYYY-MM (e.g. 2024-06), got {month!r}") from None


def usage_lines(path: Path, month: datetime, rows: Sequence[ServiceUsage]) -> list[str]:
    """``s2raster usage`` as text: one line per service against the free monthly quota."""
    pu_quota, req_quota = FREE_QUOTA["pu_per_month"], FREE_QUOTA["requests_per_month"]
    lines = [f"{month:%Y-%m} (UTC), recorded in {path}:"]
    if not rows:
        lines.append("  nothing recorded this month")
    for row in rows:
        lines.append(
            f"  {row.service}: {row.processing_units:.2f} of {pu_quota:,.0f} free PU "
            f"({_pct(row.processing_units / pu_quota)}), {row.requests:,} of {req_quota:,} "
            f"free requests ({_pct(row.requests / req_quota)})"
        )
    return lines


def usage_summary(path: Path, month: datetime, rows: Sequence[ServiceUsage]) -> dict[str, Any]:
    """``s2raster usage --json``."""
    return {
        "month": f"{month:%Y-%m}",
        "ledger": str(path),
        "free_quota": {
            "pu_per_month": FREE_QUOTA["pu_per_month"],
            "requests_per_month": FREE_QUOTA["requests_per_month"],
        },
        "services": [
            {"service": r.service, "requests": r.requests, "processing_units": r.processing_units}
            for r in rows
        ],
    }


def cache_lines(info: CacheInfo) -> list[str]:
    """``s2raster cache info``: directory, tiles, size (and its limit), oldest/newest use."""
    limit = "" if info.max_bytes is None else f" (limit {human_bytes(info.max_bytes)})"
    lines = [
        FIELD.format("directory:", str(info.directory)),
        FIELD.format("tiles:", f"{info.entries}, {human_bytes(info.bytes)}{limit}"),
    ]
    if info.oldest is not None and info.newest is not None:
        lines.append(
            FIELD.format(
                "last used:", f"{info.oldest:%Y-%m-%d %H:%M} .. {info.newest:%Y-%m-%d %H:%M} UTC"
            )
        )
    if info.temporary:
        lines.append(
            FIELD.format(
                "leftovers:",
                f"{info.temporary} temporary file(s) of "
                "interrupted writes (s2raster cache clear removes them)",
            )
        )
    return lines
