"""How the CLI reports errors: one line on stderr, exit 2 (usage) or 1 (failure), no partial
output file."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from s2raster.errors import CostLimitError, CredentialsError, InputError, S2RasterError

#: Exit status of a usage error (as click's own) and of a failure.
EXIT_USAGE = 2
EXIT_FAILURE = 1


def exit_code_of(exc: S2RasterError) -> int:
    """2 for what the user can fix in the command line, 1 for everything else."""
    if isinstance(exc, CredentialsError):
        return EXIT_FAILURE
    if isinstance(exc, (InputError, CostLimitError)):
        return EXIT_USAGE
    return EXIT_FAILURE


def one_line(message: str) -> str:
    """``message`` with its whitespace (newlines included) collapsed to single spaces."""
    return " ".join(message.split()) or "unknown error"


class Failure(click.ClickException):
    """A library failure (credentials, service, network, writing): exit status 1."""

    exit_code = EXIT_FAILURE


class UsageFailure(Failure):
    """A library usage error (bbox, band, time, size, cost limit): exit status 2."""

    exit_code = EXIT_USAGE


def failure(message: str, code: int) -> Failure:
    """The click exception that prints ``Error: message`` and exits with ``code``."""
    return UsageFailure(message) if code == EXIT_USAGE else Failure(message)


def exit_with(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    click.echo(message, err=True)
    sys.exit(code)


@contextlib.contextmanager
def no_partial_output(*paths: Path) -> Iterator[None]:
    """Remove any of ``paths`` that did not exist before, should the block fail."""
    new = [p for p in paths if not p.exists()]
    try:
        yield
    except BaseException:
        for path in new:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
