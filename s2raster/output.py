"""Files s2raster writes: output paths checked before any request, temporaries a rerun finds,
and the user's umask on every file.

- :func:`check_output_path` refuses, before anything is downloaded, an output that could
  not be written: not a path, a directory, a missing folder, a folder that is read-only,
  not permitted or too full, each with the true reason (the errno of a probe file, not a
  guess from ``os.access``, which says yes to root on a read-only folder).
- :func:`temp_folder` and :func:`atomic_file` put a write's temporaries beside the target
  as ``.<target>.s2raster-tmp-*``, locked while the write runs, so the next write to the
  same target finds and removes what a killed one left (:func:`remove_stale`).
- :func:`open_temp` creates a temporary file as any other new file is created (mode 0666
  less the user's umask), not 0600 as :func:`tempfile.mkstemp` does.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl

    HAS_FLOCK = True
except ImportError:  # pragma: no cover - Windows: temporaries are judged by age only
    HAS_FLOCK = False

from s2raster.errors import OutputPathError

__all__ = [
    "atomic_file",
    "check_output_path",
    "open_temp",
    "remove_stale",
    "temp_folder",
    "temp_prefix",
]

#: The marker in the names of temporary files and folders (never in a user's file name).
TEMP_MARK = ".s2raster-tmp-"
#: Where locks are not available: a temporary older than this (s) belongs to a dead write.
STALE_AFTER_S = 3600.0
#: The lock file inside a temporary folder.
LOCK_NAME = ".lock"
#: A temporary younger than this (s) may not be locked yet by the write that made it.
_LOCK_WINDOW_S = 2.0
_REASONS = {
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
}


def check_output_path(
    path: object,
    *,
    param: str = "path",
    suffixes: tuple[str, ...] = (),
    nbytes: int = 0,
) -> Path:
    """``path`` as a :class:`~pathlib.Path` if a file can be written there, else an
    :class:`~s2raster.errors.OutputPathError` naming ``param``, the value and the fix.

    Checked: a ``str`` or path-like (not None, not a number), one of ``suffixes`` (if
    given), not an existing directory, in an existing folder where a file can be created
    (a probe file is made and removed at once), with ``nbytes`` free beside it. Nothing
    is left behind.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise OutputPathError(
            f"{param} must be a file path (a str or pathlib.Path such as 'out.tif'), got "
            f"{type(path).__name__} {path!r}"
        )
    target = Path(os.fspath(path)).expanduser()
    if not str(path).strip() or target.name in ("", ".", ".."):
        raise OutputPathError(f"{param} {str(path)!r} is not a file name: give e.g. 'out.tif'")
    if suffixes and target.suffix.lower() not in suffixes:
        wanted = " or ".join(suffixes)
        raise OutputPathError(f"{param} {str(path)!r} must end with {wanted}: rename it")
    if target.is_dir():
        raise OutputPathError(
            f"{param} {str(path)!r} is a directory: give a file name inside it, e.g. "
            f"{str(target / ('out' + (suffixes[0] if suffixes else '.tif')))!r}"
        )
    folder = target.parent
    if not folder.is_dir():
        what = "is not a directory" if folder.exists() else "does not exist"
        raise OutputPathError(
            f"{param} {str(path)!r}: the folder {str(folder)!r} {what}: create it or write "
            "elsewhere"
        )
    _probe(folder, param, str(path))
    _check_space(folder, nbytes, param, str(path))
    return target


def _probe(folder: Path, param: str, shown: str) -> None:
    """Create and remove a file in ``folder``; an OutputPathError with the errno's reason."""
    try:
        fd, name = open_temp(folder, f".probe{TEMP_MARK}")
    except OSError as exc:
        reason = _REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        raise OutputPathError(
            f"{param} {shown!r}: cannot create a file in {str(folder)!r} ({reason}): "
            "choose a folder you can write to"
        ) from exc
    os.close(fd)
    Path(name).unlink(missing_ok=True)


def _check_space(folder: Path, nbytes: int, param: str, shown: str) -> None:
    if nbytes <= 0:
        return
    free = shutil.disk_usage(folder).free
    if free < nbytes:
        raise OutputPathError(
            f"{param} {shown!r}: writing it needs about {_size(nbytes)} of temporary space "
            f"in {str(folder)!r}, {_size(free)} are free: free some space or write elsewhere"
        )


def _size(n: float) -> str:
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n:.0f} bytes"


def temp_prefix(target: Path) -> str:
    """The name prefix of the temporary files and folders of a write to ``target``."""
    return f".{target.name}{TEMP_MARK}"


@contextmanager
def temp_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` for one write, removed afterwards.

    Earlier writes' leftovers are removed first (:func:`remove_stale`). The folder holds
    a lock file for as long as the write runs, so another process can tell a write under
    way from one that was killed.
    """
    remove_stale(target)
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix(target), dir=target.parent))
    fd = os.open(folder / LOCK_NAME, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        _lock(fd)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


@contextmanager
def atomic_file(target: Path, *, clean: bool = True) -> Iterator[BinaryIO]:
    """A file to write ``target``'s bytes into; renamed onto ``target`` when the block ends.

    The temporary file beside ``target`` gets the user's umask (:func:`open_temp`) and is
    locked while written; on any failure it is removed and ``target`` is untouched.
    ``clean`` first removes what killed writes to ``target`` left (:func:`remove_stale`).
    """
    if clean:
        remove_stale(target)
    fd, tmp = open_temp(target.parent, temp_prefix(target))
    try:
        _lock(fd)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(target)  # os.replace: atomic within one directory
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale(target: Path, *, older_than: float = STALE_AFTER_S) -> int:
    """Remove the temporaries of writes to ``target`` that are no longer running.

    A temporary is left by a write that died when nobody holds its lock (the kernel drops
    the lock of a killed process); where locks are not available (Windows), when it is
    older than ``older_than`` seconds. Returns how many were removed.
    """
    removed = 0
    for path in target.parent.glob(f"{_glob_escape(temp_prefix(target))}*"):
        try:
            if not _abandoned(path, older_than):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed += 1
    return removed


def _abandoned(path: Path, older_than: float) -> bool:
    """Whether the temporary ``path`` belongs to a write that is not running any more."""
    lock_path = path / LOCK_NAME if path.is_dir() else path
    try:
        age = time.time() - lock_path.lstat().st_mtime
    except OSError:  # a folder without its lock file: just made, or very old
        return time.time() - path.lstat().st_mtime > older_than
    if not HAS_FLOCK:
        return age > older_than
    if age < _LOCK_WINDOW_S:  # made a moment ago: its writer may not hold the lock yet
        return False
    fd = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # locked: a write under way
    finally:
        os.close(fd)  # closing also releases a lock just taken
    return True


def _lock(fd: int) -> None:
    if HAS_FLOCK:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def open_temp(folder: Path, prefix: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new, empty temporary file in ``folder``: ``(fd, path)``, opened for writing.

    Unlike :func:`tempfile.mkstemp` (always mode 0600) the file is created with mode
    0666 and the kernel applies the user's umask, as for any other new file, so the
    file renamed onto the target has the mode the user expects.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(8)}{suffix}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))
