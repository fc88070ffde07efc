"""The two questions a download may ask before paying: a large area, a large cost.

Each has its own answer on the command line, so one never approves the other:

- the area (more than :data:`s2raster.plan.MAX_PIXELS` px per band): ``--yes`` / ``-y``;
  without it a terminal asks, anything else gets the error that names ``--yes``;
- the cost (the processing units of the requests not in the cache, above
  ``--confirm-above``, default :data:`CONFIRM_PU`): ``--yes-cost``; without it a terminal
  asks; without a terminal nothing is asked: ``--max-pu`` is the guard there.

A "no" (or Ctrl-C) aborts before any request.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from s2raster.contract import FREE_QUOTA

if TYPE_CHECKING:
    from s2raster.plan import Plan

#: Ask above this many PU: 50 % of the free per-minute PU or 5 % of the monthly PU,
#: whichever is less.
CONFIRM_PU = min(0.5 * FREE_QUOTA["pu_per_minute"], 0.05 * FREE_QUOTA["pu_per_month"])


def is_interactive() -> bool:
    """Whether a person can answer: stdin and stderr are terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def confirm_size(plan: Plan, *, confirmed: bool) -> None:
    """Ask about an area above the size limit (``--yes`` answers); refuse off a terminal."""
    from s2raster.plan import MAX_PIXELS, check_size, needs_confirmation

    if confirmed or not needs_confirmation(plan):
        return
    if not is_interactive():
        check_size(plan, confirmed=False)  # the GridError naming --yes
    grid = plan.grid
    pixels = grid.width * grid.height
    click.confirm(
        f"The area is {grid.width} x {grid.height} px = {pixels / 1e6:.0f} million px per "
        f"band, above {MAX_PIXELS / 1e6:.0f} million. Continue?",
        abort=True,
        err=True,
    )


def confirm_cost(pu: float, requests: int, *, threshold: float, confirmed: bool) -> None:
    """Ask about a job estimated above ``threshold`` PU (``--yes-cost`` answers).

    Off a terminal nothing is asked (``--max-pu`` refuses a job that costs too much).
    """
    if confirmed or pu <= threshold or not is_interactive():
        return
    click.confirm(
        f"This job will spend about {pu:.2f} processing units ({requests} "
        f"request{'' if requests == 1 else 's'}), above {threshold:g} "
        f"(--confirm-above). Continue?",
        abort=True,
        err=True,
    )
