"""``s2raster emulator``: serve the local Process API emulator (SYNTHETIC data)."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="TCP port (0: a free port).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind to.")
def emulator(port: int, host: str) -> None:
    """Serve the local Process API emulator (SYNTHETIC data) until Ctrl-C.

    Prints four lines first, SH_BASE_URL=, SH_TOKEN_URL=, SH_CLIENT_ID= and
    SH_CLIENT_SECRET=: with them exported in another shell, s2raster commands (without
    --emulator) talk to this emulator. Everything it serves is synthetic, not Sentinel-2.
    """
    from s2raster.emulator import run_cli_server

    click.echo("s2raster emulator: SYNTHETIC data, not Sentinel-2; Ctrl-C to stop", err=True)
    run_cli_server(port, host=host, echo=_echo_flush)  # until Ctrl-C or SIGTERM


def _echo_flush(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()
