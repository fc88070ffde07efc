"""``s2raster cache info|clear``: what the tile cache holds, and emptying it.

Thin: parses the options and calls :meth:`s2raster.cache.TileCache.info` or
:meth:`~s2raster.cache.TileCache.clear`.
"""

from __future__ import annotations

from pathlib import Path

import click

from s2raster.cli import report
from s2raster.cli._parsed import parse_age


@click.group()
def cache() -> None:
    """Inspect or empty the tile cache (responses already paid for)."""


_DIR_HELP = "Tile cache directory. Default: the user cache directory."


@cache.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help=_DIR_HELP)
def info(cache_dir: Path | None) -> None:
    """Where the cache is, how many tiles it holds, their size and age."""
    from s2raster.cache import TileCache, default_directory

    found = TileCache(cache_dir or default_directory()).info()
    click.echo("\n".join(report.cache_lines(found)))


@cache.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help=_DIR_HELP)
@click.option(
    "--older-than",
    metavar="AGE",
    default=None,
    help="Only tiles not used for AGE (e.g. 30d, 12h, 90m). Default: all.",
)
def clear(cache_dir: Path | None, older_than: str | None) -> None:
    """Delete cached tiles (all, or those not used for --older-than)."""
    from s2raster.cache import TileCache, default_directory

    seconds = None if older_than is None else parse_age(older_than, "--older-than")
    directory = cache_dir or default_directory()
    removed = TileCache(directory).clear(older_than=seconds)
    click.echo(f"{directory}: {removed} cached tile(s) removed")
