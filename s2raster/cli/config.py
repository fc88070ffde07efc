"""``s2raster config check``: the endpoints, the credentials found, and a token."""

from __future__ import annotations

import click

from s2raster.cli import report
from s2raster.cli.options import EndpointOptions, endpoint_options
from s2raster.cli.session import service_config
from s2raster.errors import CredentialsError, S2RasterError


@click.group()
def config() -> None:
    """Inspect the configuration (endpoints, credentials)."""


@config.command("check")
@endpoint_options
def check(endpoint: EndpointOptions) -> None:
    """Show the endpoints, whether credentials are found, and whether a token can be had.

    The client secret is never printed. Exit status 0 when a token was obtained, else 1
    with the reason on stderr.
    """
    from s2raster.cdse import CDSE_BASE_URL, CDSE_TOKEN_URL, check_token

    if not endpoint.emulator:
        base_url = endpoint.base_url or CDSE_BASE_URL
        lines = report.endpoint_lines(base_url, endpoint.token_url or CDSE_TOKEN_URL)
        click.echo("\n".join(lines))
    found = False
    try:
        with service_config(endpoint) as (cfg, synthetic):
            if synthetic:
                lines = report.endpoint_lines(cfg.sh_base_url, cfg.sh_token_url, synthetic=True)
                click.echo("\n".join(lines))
            found = True
            source = "the emulator" if synthetic else report.credential_source(endpoint.profile)
            click.echo("\n".join(report.credential_lines(cfg.sh_client_id, source)))
            expires_in = check_token(cfg)
    except CredentialsError:
        click.echo(report.FIELD.format("credentials:", "refused" if found else "not found"))
        raise
    except S2RasterError:
        click.echo(report.FIELD.format("token:", "not obtained"))
        raise
    click.echo(report.FIELD.format("token:", f"obtained{report.expiry(expires_in)}"))
