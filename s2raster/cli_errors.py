"""How the CLI reports library errors: exit status and a one-line message."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

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
