"""A response body read into one buffer: a tile in flight holds its bytes once, not twice.

Private to :mod:`s2raster.cdse._fetch`. requests reads a body (``Response.content``) as a
list of 10 KB chunks and joins them: for a 2500 x 2500 px, 5-band float response (about
65 MB compressed) both are alive at once. :func:`send` is sentinelhub-py's own request
(``SentinelHubDownloadClient._do_download``, 3.x) sent with ``stream=True``; a large body is
then read into a ``bytearray`` of the announced ``Content-Length``, filled in place.
"""

from __future__ import annotations

from typing import Any

import requests
from requests import Response

__all__ = ["LARGE", "read_body", "send"]

#: Bodies announced at least this large are read into one buffer; smaller ones (JSON,
#: errors), or bodies without a length or with a content encoding, the usual way.
LARGE = 1 << 20
#: Bytes read at a time.
PIECE = 1 << 20


def send(method: str, url: str, *, json: Any, headers: dict[str, Any], timeout: Any) -> Response:
    """The request, its body read by :func:`read_body`."""
    response = requests.request(
        method, url=url, json=json, headers=headers, timeout=timeout, stream=True
    )
    read_body(response)
    return response


def read_body(response: Response) -> None:
    """Read a streamed ``response``'s body; after this ``response.content`` holds it.

    A body of at least :data:`LARGE` bytes, with a ``Content-Length`` and no content
    encoding, becomes one ``bytearray`` of that length (connection errors while reading
    raise as requests' own do, so sentinelhub-py retries them the same way).
    """
    headers = response.headers
    length = headers.get("content-length", "")
    encoded = headers.get("content-encoding", "identity").lower() != "identity"
    if not length.isdigit() or int(length) < LARGE or encoded:
        _ = response.content  # requests reads (and joins) it
        return
    body = bytearray(int(length))
    filled = 0
    for chunk in response.iter_content(PIECE):
        body[filled : filled + len(chunk)] = chunk  # in place (grows only past the length)
        filled += len(chunk)
    del body[filled:]
    response._content = body  # type: ignore[assignment]  # what ``content`` now returns
