"""``s2raster usage``: this month's processing units and requests, per service, from the
local ledger (:mod:`s2raster.ledger`), against the free monthly quota."""

from __future__ import annotations

import json
from pathlib import Path

import click

from s2raster.cli import report


@click.command()
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ledger file. Default: ledger.jsonl in the user cache directory.",
)
@click.option("--month", default=None, metavar="YYYY-MM", help="Another month (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def usage(ledger_path: Path | None, month: str | None, as_json: bool) -> None:
    """Show the processing units and requests spent this month, per service.

    Counts what this machine's loads recorded (each answered request; synthetic emulator
    answers are free and not recorded), not what other machines spent on the same account.
    """
    from s2raster.ledger import Ledger, default_path
    from s2raster.ledger import usage as month_usage

    ledger = Ledger(ledger_path or default_path())
    when = report.parse_month(month)
    rows = month_usage(ledger, when)
    if as_json:
        click.echo(json.dumps(report.usage_summary(ledger.path, when, rows), indent=2))
    else:
        click.echo("\n".join(report.usage_lines(ledger.path, when, rows)))
