"""``s2raster indices``: the spectral indices ``--index`` accepts, listed or in full."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pandas as pd

DOMAINS = ("vegetation", "water", "burn", "urban", "soil", "snow", "clouds", "kernel")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--domain", type=click.Choice(DOMAINS), help="Only indices of this domain.")
@click.option("--search", "text", metavar="TEXT", help="Only names or long names with TEXT.")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue rows as JSON.")
def indices(names: tuple[str, ...], domain: str | None, text: str | None, as_json: bool) -> None:
    """List the spectral indices --index accepts (Awesome Spectral Indices, Sentinel-2).

    With NAMES (e.g. NDVI EVI), show those in full: ASI's formula, the formula with
    Sentinel-2 bands, the constants and their defaults, the reference. --index also takes
    expressions over band names, e.g. '(B08 - B04) / (B08 + B04 + 0.5)'.
    """
    from s2raster.indices import canonical_name, catalogue

    table = catalogue()
    if names:
        table = table.loc[[canonical_name(n) for n in dict.fromkeys(names)]]
    if domain:
        table = table[table["application_domain"] == domain]
    if text:
        found = table.index.str.contains(text, case=False, regex=False)
        table = table[found | table["long_name"].str.contains(text, case=False, regex=False)]
    if as_json:
        click.echo(json.dumps(_records(table), indent=2))
    elif names:
        click.echo("\n\n".join("\n".join(_details(name, row)) for name, row in table.iterrows()))
    else:
        click.echo("\n".join(_listing(table)))


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"short_name": name, **row.to_dict()} for name, row in table.iterrows()]


def _listing(table: pd.DataFrame) -> list[str]:
    lines = [
        f"{name:<16} {','.join(row['bands']):<28} {row['long_name']}"
        for name, row in table.iterrows()
    ]
    source = table.attrs.get("source", {})
    lines.append(
        f"{len(table)} indices (Awesome Spectral Indices of {source.get('date', '?')}, "
        f"commit {str(source.get('commit', '?'))[:12]}); details: s2raster indices NAME"
    )
    return lines


def _details(name: Any, row: pd.Series) -> list[str]:
    constants = ", ".join(
        f"{k} = {'(none: give it)' if v is None else v}" for k, v in row["constants"].items()
    )
    field = "  {:<12}{}".format
    lines = [f"{name}: {row['long_name']}"]
    lines.append(field("ASI:", row["formula"]))
    lines.append(field("Sentinel-2:", row["s2_formula"]))
    lines.append(field("bands:", ", ".join(row["bands"])))
    lines.append(field("constants:", constants or "none"))
    lines.append(field("domain:", row["application_domain"]))
    lines.append(field("reference:", row["reference"]))
    if row["asi_name"] != name:
        lines.append(field("ASI name:", row["asi_name"]))
    return lines
