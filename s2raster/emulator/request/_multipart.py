"""``multipart/form-data`` Process API bodies: the ``request`` and ``evalscript`` parts.

The body is split on its boundary directly (a few ``bytes`` operations, whatever the size)
rather than through :mod:`email`, whose cost grows with the number of parts; a body of
more than :data:`MAX_PARTS` parts is refused. Only the parts named ``request`` and
``evalscript`` are kept, as raw bytes (clients send them unencoded).
"""

from __future__ import annotations

import re

from s2raster.emulator.request._apierror import bad_payload

#: Parts a multipart body may have (the Process API uses two: request and evalscript).
MAX_PARTS = 16
WANTED = ("request", "evalscript")
_BOUNDARY = re.compile(r';\s*boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_NAME = re.compile(rb'(?:^|;)\s*name=(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)


def boundary_of(content_type: str) -> bytes:
    """The boundary parameter of a ``multipart/form-data`` content type (400 without one)."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise bad_payload("A multipart/form-data body needs a boundary in its Content-Type.")
    return (match.group(1) or match.group(2)).encode("latin-1", "replace")


def form_parts(body: bytes, content_type: str) -> dict[str, bytes]:
    """The ``request`` and ``evalscript`` parts of a multipart body, by name."""
    delimiter = b"--" + boundary_of(content_type)
    if body.count(delimiter) > MAX_PARTS + 1:
        raise bad_payload(
            f"A multipart body may have at most {MAX_PARTS} parts; the Process API needs "
            "'request' and, optionally, 'evalscript'."
        )
    chunks = body.split(delimiter)
    parts: dict[str, bytes] = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):  # the close delimiter
            break
        name, content = _part(chunk)
        if name in WANTED and name not in parts:
            parts[name] = content
    return parts


def _part(chunk: bytes) -> tuple[str | None, bytes]:
    """(name, content) of one part: the text between two delimiters."""
    line_end = chunk.find(b"\n")  # the rest of the delimiter line (transport padding)
    if line_end < 0:
        return None, b""
    rest = chunk[line_end + 1 :]
    head, sep, content = rest.partition(b"\r\n\r\n")
    if not sep:
        head, sep, content = rest.partition(b"\n\n")
    if content.endswith(b"\r\n"):  # the line break before the next delimiter
        content = content[:-2]
    elif content.endswith(b"\n"):
        content = content[:-1]
    return _name(head), content


def _name(head: bytes) -> str | None:
    for line in head.splitlines():
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-disposition":
            match = _NAME.search(value)
            if match is not None:
                raw = match.group(1) if match.group(1) is not None else match.group(2)
                return raw.decode("utf-8", "replace")
    return None
