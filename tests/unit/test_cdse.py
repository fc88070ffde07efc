"""cdse: configuration, credentials, the fetch over real HTTP (a stub service), error mapping.

The stub below is a tiny loopback HTTP server with a token endpoint and a scripted
``/api/v1/process``, so retries, 429, error bodies and concurrency can be driven exactly;
sentinelhub-py does the real HTTP and OAuth work against it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sentinelhub.config import SHConfig
from sentinelhub.exceptions import DownloadFailedException, OutOfRequestsException

from s2raster.cdse import (
    CDSE_BASE_URL,
    CDSE_TOKEN_URL,
    FetchResult,
    bound_collection,
    cdse_config,
    cdse_fetch,
    check_token,
    redact,
)
from s2raster.cdse._errors import map_error, service_message
from s2raster.errors import CredentialsError, InputError, NetworkError, ServiceError
from s2raster.plan import TileRequest, make_plan

SECRET = "s3cr3t-Value-That-Must-Not-Leak-9f8e7d"
CLIENT_ID = "stub-client"


def _jwt() -> str:
    part = base64.urlsafe_b64encode(json.dumps({"azp": CLIENT_ID}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{part}.c2ln"


TOKEN = _jwt()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"II*\x00fake-tiff"
    headers: dict[str, str] = field(default_factory=lambda: {"x-processingunits-spent": "0.5"})


class Stub:
    """Token endpoint + scripted Process API on loopback; counts what it served."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default = Reply()
        self.delay = 0.0
        self.token_requests = 0
        self.process_requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def config(self, **changes: object) -> SHConfig:
        config = cdse_config(
            CLIENT_ID, SECRET, base_url=self.url, token_url=self.url + "/token", loopback_http=True
        )
        config.download_sleep_time = 0.01
        for name, value in changes.items():
            setattr(config, name, value)
        return config

    def _next(self) -> Reply:
        with self.lock:
            self.process_requests += 1
            return self.script.pop(0) if self.script else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/token":
                    with stub.lock:
                        stub.token_requests += 1
                    form = urllib.parse.parse_qs(body.decode())
                    if form.get("client_secret") == [SECRET]:
                        token = {"access_token": TOKEN, "expires_in": 600, "token_type": "Bearer"}
                        self._send(Reply(200, json.dumps(token).encode(), {}))
                    else:
                        error = {"error": "invalid_client", "error_description": "Invalid client"}
                        self._send(Reply(401, json.dumps(error).encode(), {}))
                    return
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(Reply(401, b'{"error": {"status": 401, "message": "no"}}', {}))
                    return
                with stub.lock:
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.delay)
                    self._send(stub._next())
                finally:
                    with stub.lock:
                        stub.in_flight -= 1

        return Handler


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SH_* variables, and sentinelhub's config.toml under tmp_path (XDG_CONFIG_HOME)."""
    for name in ("SH_CLIENT_ID", "SH_CLIENT_SECRET", "SH_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def tile() -> TileRequest:
    return make_plan((13.822, 45.850, 13.83, 45.855), "2024-06-01/2024-06-30", ["B04"]).requests[0]


# --- configuration and credentials ---


def test_config_defaults_to_cdse(clean_env: Path) -> None:
    config = cdse_config("id", SECRET)
    assert config.sh_base_url == CDSE_BASE_URL == "https://sh.dataspace.copernicus.eu"
    assert config.sh_token_url == CDSE_TOKEN_URL
    assert CDSE_TOKEN_URL.startswith("https://identity.dataspace.copernicus.eu/auth/realms/CDSE/")
    assert (config.sh_client_id, config.sh_client_secret) == ("id", SECRET)
    assert config.max_download_attempts >= 3
    assert SECRET not in repr(config)
    assert not (clean_env / "sentinelhub").exists()  # nothing written


def test_credentials_from_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SH_CLIENT_ID", "env-id")
    monkeypatch.setenv("SH_CLIENT_SECRET", "env-secret")
    config = cdse_config()
    assert (config.sh_client_id, config.sh_client_secret) == ("env-id", "env-secret")
    assert cdse_config("arg-id", "arg-secret").sh_client_secret == "arg-secret"


def test_credentials_from_profile(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SHConfig(use_defaults=True, sh_client_id="p-id", sh_client_secret="p-secret").save("cdse")
    config = cdse_config(profile="cdse", base_url="http://127.0.0.1:1")
    assert (config.sh_client_id, config.sh_client_secret) == ("p-id", "p-secret")
    assert config.sh_base_url == "http://127.0.0.1:1"
    monkeypatch.setenv("SH_CLIENT_SECRET", "env-secret")
    assert cdse_config(profile="cdse").sh_client_secret == "env-secret"  # env beats profile
    with pytest.raises(CredentialsError, match="profile 'other' not found"):
        cdse_config(profile="other")


def test_default_profile_is_used(clean_env: Path) -> None:
    SHConfig(use_defaults=True, sh_client_id="d-id", sh_client_secret="d-secret").save()
    assert cdse_config().sh_client_id == "d-id"


@pytest.mark.parametrize(
    ("args", "missing"),
    [((None, None), "SH_CLIENT_ID, SH_CLIENT_SECRET"), (("id", None), "SH_CLIENT_SECRET")],
)
def test_missing_credentials_say_how_to_set_them(
    clean_env: Path, args: tuple[str | None, str | None], missing: str
) -> None:
    with pytest.raises(CredentialsError, match=missing) as info:
        cdse_config(*args)
    text = str(info.value)
    assert "cdse_config(client_id=..., client_secret=...)" in text
    assert "--emulator" in text


def test_missing_profile_file(clean_env: Path) -> None:
    with pytest.raises(CredentialsError, match=r"no .*config\.toml"):
        cdse_config(profile="cdse")


def test_fetch_needs_credentials_and_sane_concurrency() -> None:
    with pytest.raises(CredentialsError):
        cdse_fetch(SHConfig(use_defaults=True))
    config = SHConfig(use_defaults=True, sh_client_id="a", sh_client_secret="b")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="concurrency"):
            cdse_fetch(config, concurrency=bad)  # type: ignore[arg-type]


def test_no_token_before_the_first_tile(stub: Stub, tile: TileRequest) -> None:
    fetch = cdse_fetch(stub.config(), concurrency=3)
    assert stub.token_requests == 0
    fetch(tile)
    assert stub.token_requests == 1


def test_reprs_hold_no_secret(stub: Stub) -> None:
    fetch = cdse_fetch(stub.config())
    assert SECRET not in repr(fetch)
    assert stub.url in repr(fetch)
    assert "content" not in repr(FetchResult(b"x" * 10, 1.0, False))


def test_check_token(stub: Stub) -> None:
    assert 590 < check_token(stub.config()) <= 601  # oauthlib rounds the issue time
    assert stub.token_requests == 1
    assert stub.process_requests == 0
    config = stub.config()
    config.sh_client_secret = "wrong"
    with pytest.raises(CredentialsError, match="token endpoint"):
        check_token(config)
    with pytest.raises(CredentialsError):
        check_token(SHConfig(use_defaults=True))


# --- the fetch over HTTP ---


def test_fetch_reads_body_pu_and_synthetic_mark(stub: Stub, tile: TileRequest) -> None:
    stub.script = [
        Reply(200, b"II*\x00abc", {"X-ProcessingUnits-Spent": "0.25", "X-S2raster-Synthetic": "1"}),
        Reply(200, b"II*\x00def", {}),
    ]
    fetch = cdse_fetch(stub.config())
    first = fetch(tile)
    assert first == FetchResult(b"II*\x00abc", 0.25, True)
    second = fetch(tile)
    assert second.content == b"II*\x00def"
    assert second.synthetic is False
    assert second.processing_units == pytest.approx(tile.estimated_pu)  # no header: estimate


def test_one_token_shared_and_concurrency_bounded(stub: Stub, tile: TileRequest) -> None:
    stub.delay = 0.05
    fetch = cdse_fetch(stub.config(), concurrency=2)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: fetch(tile), range(8)))
    assert len(results) == 8
    assert stub.process_requests == 8
    assert stub.token_requests == 1
    assert 1 <= stub.max_in_flight <= 2


def test_server_errors_are_retried(stub: Stub, tile: TileRequest) -> None:
    stub.script = [Reply(503, b"busy", {}), Reply(500, b"oops", {})]
    assert cdse_fetch(stub.config())(tile).content == Reply().body
    assert stub.process_requests == 3


def test_429_waits_for_retry_after(stub: Stub, tile: TileRequest) -> None:
    stub.script = [Reply(429, b'{"error": {"status": 429}}', {"retry-after": "30"})]
    with pytest.warns(Warning, match="rate limit"):
        assert cdse_fetch(stub.config())(tile).content == Reply().body
    assert stub.process_requests == 2


def test_persistent_500_becomes_service_error(stub: Stub, tile: TileRequest) -> None:
    body = json.dumps({"error": {"status": 500, "reason": "Internal", "message": "boom"}})
    stub.default = Reply(500, body.encode(), {})
    with pytest.raises(ServiceError, match=r"boom.*try again later") as info:
        cdse_fetch(stub.config(max_download_attempts=3))(tile)
    assert info.value.status == 500
    assert stub.process_requests == 3


def test_400_carries_the_service_message(stub: Stub, tile: TileRequest) -> None:
    error = {
        "error": {
            "status": 400,
            "reason": "Bad Request",
            "message": "Invalid request",
            "code": "COMMON_BAD_PAYLOAD",
            "errors": [{"parameter": "output->width", "violation": "must be <= 2500"}],
        }
    }
    stub.default = Reply(400, json.dumps(error).encode(), {"content-type": "application/json"})
    with pytest.raises(ServiceError) as info:
        cdse_fetch(stub.config())(tile)
    assert info.value.status == 400
    assert info.value.code == "COMMON_BAD_PAYLOAD"
    assert "Invalid request" in str(info.value)
    assert "output->width: must be <= 2500" in str(info.value)
    assert stub.process_requests == 1  # a 400 is not retried


def test_403_hints_at_access_or_quota(stub: Stub, tile: TileRequest) -> None:
    stub.default = Reply(403, b'{"error": {"status": 403, "message": "Forbidden"}}', {})
    with pytest.raises(ServiceError, match="quota") as info:
        cdse_fetch(stub.config())(tile)
    assert info.value.status == 403


def test_401_from_process_api_is_credentials_error(stub: Stub, tile: TileRequest) -> None:
    stub.default = Reply(401, b'{"error": {"status": 401, "message": "Token expired"}}', {})
    with pytest.raises(CredentialsError, match="refused the access token"):
        cdse_fetch(stub.config())(tile)


def test_refused_secret_never_leaks(
    stub: Stub, tile: TileRequest, caplog: pytest.LogCaptureFixture
) -> None:
    config = stub.config()
    wrong = SECRET[::-1]
    config.sh_client_secret = wrong
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CredentialsError, match="refused the credentials") as info:
        cdse_fetch(config)(tile)
    assert "/token" in str(info.value)
    assert "SH_CLIENT_SECRET" in str(info.value)
    chain: list[BaseException] = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    texts = [str(info.value), caplog.text, *(str(e) for e in chain), *(repr(e) for e in chain)]
    for text in texts:
        assert wrong not in text
        assert SECRET not in text
    assert stub.process_requests == 0
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ  # loopback allowed another way


def test_successful_token_request_is_redacted_in_logs(
    stub: Stub, tile: TileRequest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cdse_fetch(stub.config())(tile)
    assert "client_secret" in caplog.text  # requests-oauthlib logged the request body ...
    assert SECRET not in caplog.text  # ... with the secret redacted
    assert TOKEN not in caplog.text


def test_unreachable_token_endpoint_is_network_error(
    tile: TileRequest, closed_port_url: str
) -> None:
    url = closed_port_url
    config = cdse_config("id", SECRET, base_url=url, token_url=url + "/token")
    config.max_download_attempts, config.download_sleep_time = 2, 0.01
    with pytest.raises(NetworkError, match=f"cannot reach {url}/token: .*--emulator"):
        cdse_fetch(config)(tile)


def test_unreachable_service_is_network_error(
    stub: Stub, tile: TileRequest, closed_port_url: str
) -> None:
    url = closed_port_url
    config = stub.config(sh_base_url=url, max_download_attempts=2)
    with pytest.raises(NetworkError, match=f"cannot reach {url}:"):
        cdse_fetch(config)(tile)


# --- pieces ---


def test_bound_collection_is_cached_per_url() -> None:
    a = bound_collection("sentinel-2-l2a", "http://127.0.0.1:7001")
    assert a is bound_collection("sentinel-2-l2a", "http://127.0.0.1:7001/")
    assert a.service_url == "http://127.0.0.1:7001"
    assert a.api_id == "sentinel-2-l2a"
    b = bound_collection("sentinel-2-l1c", "http://127.0.0.1:7001")
    assert b.api_id == "sentinel-2-l1c"
    c = bound_collection("sentinel-2-l2a", "http://127.0.0.1:7002")
    assert c.service_url == "http://127.0.0.1:7002"
    assert len({a, b, c}) == 3


def test_bound_collection_reuses_a_user_definition() -> None:
    from sentinelhub.data_collections import DataCollection

    url = "http://127.0.0.1:7003"
    mine = DataCollection.SENTINEL2_L2A.define_from("USER_L2A_7003", service_url=url)
    assert bound_collection("sentinel-2-l2a", url) == mine


def test_redact() -> None:
    cdse_config("id", SECRET, base_url="http://127.0.0.1:1")
    text = f"grant_type=client_credentials&client_id=id&client_secret={SECRET}"
    assert SECRET not in redact(text)
    assert redact('{"access_token": "abc.def", "x": 1}') == '{"access_token": "***", "x": 1}'
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact(f"anything {SECRET} anywhere") == "anything *** anywhere"


def test_service_message_parsing() -> None:
    body = b'{"error": {"status": 400, "reason": "Bad", "message": "Nope", "code": "X"}}'
    assert service_message(body) == ("Nope", "X")
    assert service_message(b"<html>gateway</html>") == ("<html>gateway</html>", None)
    # a large body is read into a bytearray (s2raster.cdse._body)
    assert service_message(bytearray(body)) == ("Nope", "X")
    assert service_message(bytearray(b"<html>gateway</html>")) == ("<html>gateway</html>", None)
    assert service_message(b"") == ("", None)
    assert service_message('{"error": "invalid_client"}') == ("invalid_client", None)


def test_map_error_edge_cases() -> None:
    kw = {"base_url": "https://x", "token_url": "https://t/token"}
    out = map_error(OutOfRequestsException("Maximum number of download attempts reached"), **kw)
    assert isinstance(out, ServiceError)
    assert out.status == 429
    mine = NetworkError("x")
    assert map_error(mine, **kw) is mine
    timeout = DownloadFailedException("t", request_exception=requests.Timeout("slow"))
    assert isinstance(map_error(timeout, **kw), NetworkError)


def test_unexpected_error_text_is_redacted() -> None:
    from s2raster.cdse._fetch import mapped as _mapped

    url = "http://127.0.0.1:9"
    cdse_config("an-id", SECRET, base_url=url, token_url=url + "/token")  # registers SECRET
    error = _mapped(ValueError(f"odd failure near {SECRET}"), base_url=url, token_url=url)
    assert SECRET not in str(error)
    assert "***" in str(error)
