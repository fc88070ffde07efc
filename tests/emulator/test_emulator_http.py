"""HTTP robustness of the emulator: framing, connections, multipart bodies, catalog inputs.

Malformed input gets a 400 in the service's JSON error shape (never a 500, a traceback or
a silently dropped connection), and stopping the emulator closes every connection.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests

from s2raster.emulator import Emulator, RequestLog, ServedRequest, catalog
from s2raster.emulator.request import MAX_PARTS, ApiError, parse_body

CATALOG = "/api/v1/catalog/1.0.0"
PROCESS = "/api/v1/process"


def connect(emu: Emulator) -> socket.socket:
    sock = socket.create_connection((emu.host, emu.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_reply(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response (status, lower-case headers, body) read off ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closed the connection (EOF); False if it stays open (10 s)."""
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


# -- framing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: abc",
        "Content-Length: -5",
        "Content-Length: 4\r\nContent-Length: 5",
        "Transfer-Encoding: chunked",
    ],
)
def test_bad_framing_is_a_json_400_and_closes(emulator: Emulator, framing: str) -> None:
    with connect(emulator) as sock:
        sock.sendall(f"POST {PROCESS} HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode())
        sock.sendall(b"4\r\nabcd\r\n0\r\n\r\n" if "chunked" in framing else b"")
        status, headers, body = read_reply(sock)
        assert status == 400
        assert headers["connection"] == "close"
        error = json.loads(body)["error"]
        assert (error["status"], error["code"]) == (400, "COMMON_BAD_PAYLOAD")
        assert closed_by_server(sock)


# -- connections ---------------------------------------------------------------------------


def test_stop_closes_idle_keep_alive_connections() -> None:
    emu = Emulator().start()
    try:
        sock = connect(emu)
        sock.sendall(f"GET {CATALOG} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert read_reply(sock)[0] == 200  # the connection stays open (keep-alive)
    finally:
        emu.stop()
    with sock:
        assert closed_by_server(sock)


def test_request_log_keeps_the_last_entries() -> None:
    log = RequestLog(maxlen=3)
    for k in range(5):
        log.append(ServedRequest(f"/{k}", 200))
    assert len(log) == 3
    assert [r.path for r in log] == ["/2", "/3", "/4"]
    assert log[0].path == "/2"
    assert log[-1].path == "/4"
    assert [r.path for r in log[1:]] == ["/3", "/4"]
    assert log.count(path="/4") == 1
    assert log.count(ServedRequest("/0", 200)) == 0
    log.clear()
    assert len(log) == 0


def test_request_log_is_bounded_by_default() -> None:
    log = RequestLog()
    for _ in range(10_001):
        log.append(ServedRequest("/", 200))
    assert len(log) == 10_000


# -- multipart -----------------------------------------------------------------------------

BOUNDARY = "s2rBoundary"


def multipart(parts: list[tuple[str, str]], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for name, content in parts:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
            f"Content-Type: text/plain\r\n\r\n{content}\r\n"
        ).encode()
    return out + f"--{boundary}--\r\n".encode()


REQUEST = json.dumps({"input": {}, "output": {}})


def test_multipart_keeps_request_and_evalscript() -> None:
    raw = multipart([("junk", "x"), ("request", REQUEST), ("evalscript", "//VERSION=3\nA")])
    payload = parse_body(raw, f'multipart/form-data; boundary="{BOUNDARY}"')
    assert payload == {"input": {}, "output": {}, "evalscript": "//VERSION=3\nA"}


def test_multipart_with_too_many_parts_is_refused() -> None:
    parts = [("request", REQUEST), ("evalscript", "//VERSION=3\n")]
    raw = multipart(parts + [("p", "")] * 2000)
    with pytest.raises(ApiError) as info:
        parse_body(raw, f"multipart/form-data; boundary={BOUNDARY}")
    assert info.value.status == 400
    assert f"at most {MAX_PARTS} parts" in info.value.message


def test_multipart_without_boundary_is_refused() -> None:
    with pytest.raises(ApiError, match="boundary"):
        parse_body(multipart([("request", REQUEST)]), "multipart/form-data")


# -- catalog inputs --------------------------------------------------------------------------


def search(**change: Any) -> dict[str, Any]:
    params = {
        "collections": ["sentinel-2-l2a"],
        "bbox": [13.8, 45.8, 14.5, 46.3],
        "datetime": "2022-06-01T00:00:00Z/2022-08-31T23:59:59Z",
        **change,
    }
    return catalog.search(params, "http://127.0.0.1")


@pytest.mark.parametrize(
    "change",
    [
        {"datetime": "2022-08-31T00:00:00Z/2022-06-01T00:00:00Z"},
        {"filter": "eo:cloud_cover < ."},
        {"filter": "eo:cloud_cover < 1e"},
        {"filter": {"op": "and", "args": 5}, "filter-lang": "cql2-json"},
        {"ids": 5},
        {"ids": [["a"]]},
    ],
)
def test_catalog_bad_inputs_are_400s(change: dict[str, Any]) -> None:
    with pytest.raises(ApiError) as info:
        search(**change)
    assert (info.value.status, info.value.code) == (400, "COMMON_BAD_PAYLOAD")


def test_catalog_far_future_and_odd_fields_are_fine() -> None:
    far = search(datetime="2022-08-01T00:00:00Z/9999-12-31T00:00:00Z", limit=1)
    assert far["context"]["returned"] == 1
    odd = search(fields={"include": 5, "exclude": "x"}, limit=1)
    assert odd["features"][0]["id"]


def test_catalog_reversed_range_over_http(emulator: Emulator, token: str) -> None:
    body = {
        "collections": ["sentinel-2-l2a"],
        "datetime": "2022-08-31T00:00:00Z/2022-06-01T00:00:00Z",
    }
    response = requests.post(
        emulator.base_url + CATALOG + "/search",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "COMMON_BAD_PAYLOAD"


def test_short_body_is_a_400_and_closes(emulator: Emulator) -> None:
    with connect(emulator) as sock:
        sock.sendall(
            f"POST {PROCESS} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        sock.shutdown(socket.SHUT_WR)  # the client gives up after one byte of 100
        status, _, body = read_reply(sock)
        assert status == 400
        assert "shorter" in json.loads(body)["error"]["message"]
        assert closed_by_server(sock)
