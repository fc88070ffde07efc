"""A response body read into one buffer (``s2raster.cdse._body``), over real loopback HTTP:
the same bytes as requests' own reading, whatever the framing, and its errors on a cut body."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from s2raster.cdse._body import LARGE, send

BODY = bytes(range(256)) * (3 * LARGE // 256 + 7)  # a few MB, not a multiple of a piece


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        kind = self.path.strip("/")
        if kind == "chunked":
            self.send_response(200)
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BODY), 300_000):
                piece = BODY[start : start + 300_000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        body = {"large": BODY, "small": BODY[:100], "gzip": gzip.compress(BODY)}.get(kind, BODY)
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        if kind == "gzip":
            self.send_header("content-encoding", "gzip")
        if kind == "cut":
            self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _send(url: str) -> requests.Response:
    return send("POST", url, json={"a": 1}, headers={}, timeout=10)


@pytest.mark.parametrize(
    ("kind", "expected", "kept_as"),
    [
        ("large", BODY, bytearray),  # announced, large: one buffer, filled in place
        ("small", BODY[:100], bytes),  # requests' own reading
        ("chunked", BODY, bytes),  # no length announced
        ("gzip", BODY, bytes),  # a length of the encoded bytes: requests decodes
    ],
)
def test_a_body_reads_whole_whatever_its_framing(
    server: str, kind: str, expected: bytes, kept_as: type
) -> None:
    response = _send(f"{server}/{kind}")
    assert response.status_code == 200
    assert type(response.content) is kept_as
    assert response.content == expected
    assert response.content == expected  # read once: the same object again


def test_a_cut_body_raises_as_requests_does(server: str) -> None:
    # urllib3 checks the length: a short body is a connection error sentinelhub-py retries
    with pytest.raises(requests.exceptions.RequestException):
        _send(f"{server}/cut")
