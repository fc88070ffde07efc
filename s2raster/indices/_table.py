"""The catalogue as a table: one row per index, for users, ``--help`` and ``s2raster indices``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s2raster.indices._catalogue import ASI_TO_S2, SpectralIndex, entries, source
from s2raster.indices._parser import parse
from s2raster.indices._tree import Name, substitute, unparse

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["catalogue", "s2_formula"]


def catalogue() -> pd.DataFrame:
    """Every index offered, one row each, indexed by short name.

    Columns: ``long_name``, ``formula`` (ASI's, with ASI symbols), ``s2_formula`` (with
    Sentinel-2 band names; kernel terms as ``k(B08, B04)``), ``bands`` (Sentinel-2, in the
    formula's order), ``constants`` (name -> default; ``None``: must be given),
    ``application_domain``, ``reference``, ``contributor``, ``date_of_addition``,
    ``asi_name``. ``attrs["source"]`` says which ASI release the catalogue is.
    """
    import pandas as pd

    rows = [row(e) for e in entries().values()]
    frame = pd.DataFrame(rows).set_index("short_name")
    frame.attrs["source"] = dict(source())
    return frame


def row(entry: SpectralIndex) -> dict[str, object]:
    """The catalogue row of ``entry``."""
    return {
        "short_name": entry.name,
        "long_name": entry.long_name,
        "formula": entry.formula,
        "s2_formula": s2_formula(entry),
        "bands": entry.bands,
        "constants": dict(entry.constants),
        "application_domain": entry.application_domain,
        "reference": entry.reference,
        "contributor": entry.contributor,
        "date_of_addition": entry.date_of_addition,
        "asi_name": entry.asi_name,
    }


def s2_formula(entry: SpectralIndex) -> str:
    """ASI's formula of ``entry`` with Sentinel-2 band names (constants kept as names)."""
    tree = parse(entry.formula, {*ASI_TO_S2, *entry.constants, *entry.kernel_terms})
    values = {k: Name(v) for k, v in ASI_TO_S2.items()}
    for term, (a, b) in entry.kernel_terms.items():
        values[term] = Name(f"k({ASI_TO_S2[a]}, {ASI_TO_S2.get(b, b)})")
    return unparse(substitute(tree, values))
