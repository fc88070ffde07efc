"""``s2raster emulator`` (serve the local emulator) and ``s2raster config check``."""

from __future__ import annotations

import sys
from typing import Any

import click

from s2raster import report
from s2raster.cli_options import service_config
from s2raster.errors import CredentialsError, S2RasterError


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


@click.group()
def config() -> None:
    """Inspect the configuration (endpoints, credentials)."""


@config.command("check")
@click.option(
    "--emulator",
    is_flag=True,
    help="Check against the built-in local emulator (SYNTHETIC data) instead.",
)
@click.option("--profile", default=None, help="sentinelhub-py profile with credentials.")
@click.option("--base-url", envvar="SH_BASE_URL", default=None, help="Process API base URL.")
@click.option("--token-url", envvar="SH_TOKEN_URL", default=None, help="OAuth token URL.")
def check(emulator: bool, profile: str | None, base_url: str | None, token_url: str | None) -> None:
    """Show the endpoints, whether credentials are found, and whether a token can be had.

    The client secret is never printed. Exit status 0 when a token was obtained, else 1
    with the reason on stderr.
    """
    from s2raster.cdse import CDSE_BASE_URL, CDSE_TOKEN_URL

    if not emulator:
        lines = report.endpoint_lines(base_url or CDSE_BASE_URL, token_url or CDSE_TOKEN_URL)
        click.echo("\n".join(lines))
    found = False
    try:
        with service_config(
            emulator=emulator, profile=profile, base_url=base_url, token_url=token_url
        ) as (cfg, synthetic):
            if synthetic:
                lines = report.endpoint_lines(cfg.sh_base_url, cfg.sh_token_url, synthetic=True)
                click.echo("\n".join(lines))
            found = True
            source = "the emulator" if synthetic else report.credential_source(profile)
            click.echo("\n".join(report.credential_lines(cfg.sh_client_id, source)))
            expires_in = _token(cfg)
    except CredentialsError:
        click.echo(report.FIELD.format("credentials:", "refused" if found else "not found"))
        raise
    except S2RasterError:
        click.echo(report.FIELD.format("token:", "not obtained"))
        raise
    click.echo(report.FIELD.format("token:", f"obtained{report.expiry(expires_in)}"))


def _token(cfg: Any) -> float:
    """Ask the token endpoint for a token now; its lifetime in seconds."""
    from s2raster.cdse import check_token

    return check_token(cfg)
