"""The ``s2raster`` command line: a thin click layer over the library, in the style of ``rio``.

Every command parses its options, calls one library function and reports. Errors of the
library (:class:`s2raster.errors.S2RasterError`) become one line on stderr, ``Error: ...``,
with exit status 2 for usage errors (bad bbox, band, index, time, too large an area, a job
over ``--max-pu``) and 1 for failures (credentials, the service, the network, writing).
``s2raster --debug CMD`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from s2raster import __version__
from s2raster.cli_errors import exit_code_of, one_line
from s2raster.cli_fetch import fetch, plan
from s2raster.cli_image import truecolor
from s2raster.cli_service import config, emulator
from s2raster.errors import S2RasterError

__all__ = ["cli", "main"]


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
            raise _failure(one_line(str(exc)), exit_code_of(exc)) from exc
        except Exception as exc:  # an unexpected error: still one line, unless --debug
            if _debug(ctx):
                raise
            message = f"unexpected {type(exc).__name__}: {one_line(str(exc))} (rerun with --debug)"
            raise _failure(message, 1) from exc

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
            _exit(f"Error: {one_line(exc.format_message())}{hint}", exc.exit_code)
        except click.ClickException as exc:
            _exit(f"Error: {one_line(exc.format_message())}", exc.exit_code)
        except click.Abort:
            _exit("Aborted!", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


class _Failure(click.ClickException):
    """A library failure (credentials, service, network, writing): exit status 1."""

    exit_code = 1


class _UsageFailure(_Failure):
    """A library usage error (bbox, band, time, size, cost limit): exit status 2."""

    exit_code = 2


def _failure(message: str, code: int) -> _Failure:
    return _UsageFailure(message) if code == _UsageFailure.exit_code else _Failure(message)


def _exit(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


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


cli.add_command(fetch)
cli.add_command(plan)
cli.add_command(truecolor)
cli.add_command(emulator)
cli.add_command(config)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``s2raster``)."""
    cli.main(args=argv, prog_name="s2raster")


if __name__ == "__main__":
    main()
