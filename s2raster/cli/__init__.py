"""The ``s2raster`` command line: a thin click layer over the library, in the style of ``rio``.

One module per command (:mod:`~s2raster.cli.fetch`, :mod:`~s2raster.cli.plan`,
:mod:`~s2raster.cli.dates`, :mod:`~s2raster.cli.stats`,
:mod:`~s2raster.cli.truecolor`, :mod:`~s2raster.cli.indices`,
:mod:`~s2raster.cli.emulator`, :mod:`~s2raster.cli.config`,
:mod:`~s2raster.cli.usage`, :mod:`~s2raster.cli.cache`): each parses its options once
into typed objects (:mod:`~s2raster.cli.options`), calls one library function and reports
(:mod:`~s2raster.cli.report`). The scientific stack is imported inside the command functions
only, so ``--help`` answers at once.

Errors of the library (:class:`s2raster.errors.S2RasterError`) become one line on stderr,
``Error: ...``, with exit status 2 for usage errors (bad bbox, band, index, time, too large
an area, a job over ``--max-pu``) and 1 for failures (credentials, the service, the network,
writing). ``s2raster --debug CMD`` shows the traceback instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from s2raster._version import __version__
from s2raster.cli.cache import cache
from s2raster.cli.config import config
from s2raster.cli.dates import dates
from s2raster.cli.emulator import emulator
from s2raster.cli.errors import exit_code_of, exit_with, failure, one_line
from s2raster.cli.fetch import fetch
from s2raster.cli.indices import indices
from s2raster.cli.plan import plan
from s2raster.cli.stats import stats
from s2raster.cli.truecolor import truecolor
from s2raster.cli.usage import usage
from s2raster.errors import S2RasterError

__all__ = ["S2Group", "cli", "main"]


class S2Group(click.Group):
    """A click group whose every error is one line on stderr (no usage block, no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except S2RasterError as exc:
            if _debug(ctx):
                raise
            raise failure(one_line(str(exc)), exit_code_of(exc)) from exc
        except Exception as exc:  # an unexpected error: still one line, unless --debug
            if _debug(ctx):
                raise
            message = f"unexpected {type(exc).__name__}: {one_line(str(exc))} (rerun with --debug)"
            raise failure(message, 1) from exc

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            exit_with(f"Error: {one_line(exc.format_message())}{hint}", exc.exit_code)
        except click.ClickException as exc:
            exit_with(f"Error: {one_line(exc.format_message())}", exc.exit_code)
        except click.Abort:
            exit_with("Aborted!", 1)
        raise SystemExit(rv if isinstance(rv, int) else 0)


def _debug(ctx: click.Context) -> bool:
    return bool(isinstance(ctx.obj, dict) and ctx.obj.get("debug"))


@click.group(cls=S2Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="s2raster")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Sentinel-2 from the Copernicus Data Space Ecosystem into GeoTIFFs.

    Credentials come from SH_CLIENT_ID / SH_CLIENT_SECRET (or a sentinelhub profile);
    --emulator uses the built-in local emulator instead (SYNTHETIC data, not Sentinel-2).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _command in (fetch, plan, dates, stats, truecolor, indices, emulator, config, usage, cache):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``s2raster``)."""
    cli.main(args=argv, prog_name="s2raster")
