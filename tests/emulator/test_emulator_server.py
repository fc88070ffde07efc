"""The emulator's HTTP side over real loopback HTTP: tokens, auth, routing, quotas, faults, log."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from s2raster.emulator import Emulator, EmulatorError, Faults, RateLimit, ServedRequest
from s2raster.emulator.http import TOKEN_PATH

CATALOG = "/api/v1/catalog/1.0.0"
PROCESS = "/api/v1/process"


def get_token(emu: Emulator, **form: str) -> requests.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        **form,
    }
    return requests.post(emu.token_url, data=data, timeout=10)


def bearer(emu: Emulator) -> dict[str, str]:
    response = get_token(emu)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def search_body() -> dict[str, Any]:
    return {
        "collections": ["sentinel-2-l2a"],
        "bbox": [13.8, 45.8, 14.5, 46.3],
        "datetime": "2022-06-01T00:00:00Z/2022-08-31T23:59:59Z",
        "limit": 5,
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fresh emulator (for tests that change quotas or faults)."""
    with Emulator() as emulator:
        yield emulator


# -- life cycle -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(EmulatorError, match="loopback"):
        Emulator(host=host)


def test_ipv6_loopback() -> None:
    try:
        emu = Emulator(host="::1").start()
    except EmulatorError:
        pytest.skip("no IPv6 loopback here")
    with emu:
        assert emu.base_url.startswith("http://[::1]:")
        assert requests.get(emu.base_url + CATALOG, timeout=10).status_code == 200


def test_urls_and_repr_hide_the_secret(emulator: Emulator) -> None:
    assert emulator.base_url.startswith("http://127.0.0.1:")
    assert emulator.token_url == emulator.base_url + TOKEN_PATH
    assert emulator.client_secret not in repr(emulator)
    assert emulator.client_secret not in repr(emulator._issuer)


def test_each_instance_has_its_own_credentials() -> None:
    with Emulator() as one, Emulator() as two:
        assert one.client_id != two.client_id
        assert one.client_secret != two.client_secret
        assert one.port != two.port
        token = bearer(one)
        response = requests.get(two.base_url + CATALOG + "/collections", headers=token, timeout=10)
        assert response.status_code == 401


def test_stop_releases_the_port() -> None:
    emu = Emulator().start()
    url = emu.base_url
    emu.stop()
    emu.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(url + CATALOG, timeout=2)
    with pytest.raises(EmulatorError, match="not running"):
        emu.config()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_server_prints_four_lines_and_stops_on_interrupt(signum: int) -> None:
    code = "from s2raster.emulator import run_cli_server; run_cli_server(0)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        names = [line.split("=", 1)[0] for line in lines]
        assert names == ["SH_BASE_URL", "SH_TOKEN_URL", "SH_CLIENT_ID", "SH_CLIENT_SECRET"]
        env = dict(line.split("=", 1) for line in lines)
        response = requests.post(
            env["SH_TOKEN_URL"],
            data={
                "grant_type": "client_credentials",
                "client_id": env["SH_CLIENT_ID"],
                "client_secret": env["SH_CLIENT_SECRET"],
            },
            timeout=10,
        )
        assert response.status_code == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 0  # generous: CI machines can be busy
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        proc.kill()
        proc.wait()


# -- tokens ---------------------------------------------------------------------------------


def test_token_is_a_decodable_jwt(emulator: Emulator) -> None:
    response = get_token(emulator)
    assert response.status_code == 200
    assert response.headers["x-s2raster-synthetic"] == "1"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    header, payload, signature = body["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["azp"] == emulator.client_id
    assert claims["exp"] - claims["iat"] == 600
    assert {"sub", "iss", "jti"} <= set(claims)
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "HS256"
    assert signature


def test_sentinelhub_session_decodes_the_token(emulator: Emulator) -> None:
    from sentinelhub import SentinelHubSession

    info = SentinelHubSession(config=emulator.config()).info()
    assert info["azp"] == emulator.client_id
    assert info["exp"] > time.time()


def test_tokens_survive_sentinelhub_decoding_always(emulator: Emulator) -> None:
    """sentinelhub-py decodes with b64decode (drops - and _): payloads must never need them."""
    assert emulator._issuer is not None
    for _ in range(200):
        payload = emulator._issuer.issue().split(".")[1]
        assert "-" not in payload
        assert "_" not in payload
        padded = payload + "=" * (len(payload) % 4)  # sentinelhub-py's padding
        assert json.loads(base64.b64decode(padded))["azp"] == emulator.client_id


@pytest.mark.parametrize(
    "form",
    [
        {"client_secret": "wrong"},
        {"client_id": "sh-unknown"},
        {"client_id": "", "client_secret": ""},
    ],
)
def test_bad_credentials_401_invalid_client(emulator: Emulator, form: dict[str, str]) -> None:
    response = get_token(emulator, **form)
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client or Invalid client credentials",
    }


def test_wrong_grant_type(emulator: Emulator) -> None:
    response = get_token(emulator, grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_basic_auth_credentials(emulator: Emulator) -> None:
    response = requests.post(
        emulator.token_url,
        data={"grant_type": "client_credentials"},
        auth=(emulator.client_id, emulator.client_secret),
        timeout=10,
    )
    assert response.status_code == 200


def test_token_expires_in_is_configurable() -> None:
    with Emulator(token_expires_in=1) as emu:
        assert get_token(emu).json()["expires_in"] == 1
        url = emu.base_url + CATALOG + "/collections"
        assert emu._issuer is not None
        stale = emu._issuer.issue(now=time.time() - 10)  # a 1 s token issued 10 s ago
        response = requests.get(url, headers={"Authorization": f"Bearer {stale}"}, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "COMMON_UNAUTHORIZED"


# -- authorisation and routing ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": "Basic abc"},
    ],
    ids=["missing", "empty", "garbage", "basic"],
)
@pytest.mark.parametrize(("method", "path"), [("POST", PROCESS), ("POST", CATALOG + "/search")])
def test_unauthorized(emulator: Emulator, headers: dict[str, str], method: str, path: str) -> None:
    response = requests.request(
        method, emulator.base_url + path, json={}, headers=headers, timeout=10
    )
    assert response.status_code == 401
    assert response.headers["x-s2raster-synthetic"] == "1"
    assert response.json() == {
        "error": {
            "status": 401,
            "reason": "Unauthorized",
            "message": "You are not authorized! Please provide a valid access token within the "
            "header [Authorization: Bearer <accessToken>] of your request.",
            "code": "COMMON_UNAUTHORIZED",
        }
    }


def test_token_of_another_instance_is_refused(emulator: Emulator) -> None:
    with Emulator(client_id=emulator.client_id, client_secret=emulator.client_secret) as twin:
        headers = bearer(twin)
    response = requests.post(emulator.base_url + PROCESS, json={}, headers=headers, timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "COMMON_NOT_FOUND"),
        ("GET", "/api/v1/nowhere", 404, "COMMON_NOT_FOUND"),
        ("GET", PROCESS, 405, "COMMON_METHOD_NOT_ALLOWED"),
        ("PUT", CATALOG + "/search", 405, "COMMON_METHOD_NOT_ALLOWED"),
    ],
)
def test_routing_errors(emulator: Emulator, method: str, path: str, status: int, code: str) -> None:
    response = requests.request(
        method, emulator.base_url + path, headers=bearer(emulator), timeout=10
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers["x-s2raster-synthetic"] == "1"


def test_empty_process_body(emulator: Emulator) -> None:
    response = requests.post(emulator.base_url + PROCESS, headers=bearer(emulator), timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Request body should be non-empty."


def test_catalog_landing_and_collections(emulator: Emulator) -> None:
    landing = requests.get(emulator.base_url + CATALOG + "/", timeout=10).json()
    assert any(link["rel"] == "search" for link in landing["links"])
    collections = requests.get(
        emulator.base_url + CATALOG + "/collections", headers=bearer(emulator), timeout=10
    ).json()["collections"]
    assert [c["id"] for c in collections] == ["sentinel-2-l2a", "sentinel-2-l1c"]


def test_keep_alive_session(emulator: Emulator) -> None:
    with requests.Session() as session:
        session.headers.update(bearer(emulator))
        for _ in range(5):
            response = session.get(emulator.base_url + CATALOG + "/collections", timeout=10)
            assert response.status_code == 200


# -- quotas -----------------------------------------------------------------------------------


def test_rate_limit_off_by_default(emulator: Emulator) -> None:
    assert emulator.rate_limit is None
    headers = bearer(emulator)
    statuses = {
        requests.get(
            emulator.base_url + CATALOG + "/collections", headers=headers, timeout=10
        ).status_code
        for _ in range(30)
    }
    assert statuses == {200}


def test_requests_rate_limit_answers_429_with_retry_after_ms(emu: Emulator) -> None:
    emu.rate_limit = RateLimit(requests_per_minute=2)
    headers = bearer(emu)
    url = emu.base_url + CATALOG + "/collections"
    statuses = [requests.get(url, headers=headers, timeout=10) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[2]
    assert limited.json() == {
        "error": {
            "status": 429,
            "reason": "Too Many Requests",
            "message": "You have exceeded your rate limit",
            "code": "RATE_LIMIT_EXCEEDED",
        }
    }
    retry_ms = int(limited.headers["retry-after"])
    assert 0 < retry_ms <= 30_000  # 1 request per 30 s refills in at most 30 s
    emu.rate_limit = None
    assert requests.get(url, headers=headers, timeout=10).status_code == 200


def test_rate_limit_refills(emu: Emulator) -> None:
    emu.rate_limit = RateLimit(requests_per_minute=60, burst=1 / 60)  # 1 token, 1 per s
    headers = bearer(emu)
    url = emu.base_url + CATALOG + "/collections"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    limited = requests.get(url, headers=headers, timeout=10)
    assert limited.status_code == 429
    retry_ms = int(limited.headers["retry-after"])
    assert 0 < retry_ms <= 1001
    time.sleep(retry_ms / 1000)  # exactly what the client is told to wait
    assert requests.get(url, headers=headers, timeout=10).status_code == 200


def test_rate_limit_validation() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimit(requests_per_minute=0)
    with pytest.raises(ValueError, match="burst"):
        RateLimit(pu_per_minute=10, burst=2)


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_errors(emu: Emulator, status: int) -> None:
    headers = bearer(emu)
    with emu.faults.injected(error_rate=1.0, error_statuses=(status,), retry_after_ms=250):
        response = requests.post(
            emu.base_url + CATALOG + "/search", json={}, headers=headers, timeout=10
        )
    assert response.status_code == status
    assert response.json()["error"]["status"] == status
    assert response.headers["x-s2raster-synthetic"] == "1"
    if status == 429:
        assert response.headers["retry-after"] == "250"
        assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert emu.log[-1] == ServedRequest(CATALOG + "/search", status, 0.0, "error")
    assert not emu.faults.active  # restored


def test_faults_spare_the_token_endpoint(emu: Emulator) -> None:
    with emu.faults.injected(error_rate=1.0):
        assert get_token(emu).status_code == 200


def test_dropped_connection(emu: Emulator) -> None:
    emu.faults.drop_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        requests.get(emu.base_url + CATALOG, timeout=10)
    emu.faults.clear()
    assert emu.log[-1] == ServedRequest(CATALOG, 0, 0.0, "drop")
    assert requests.get(emu.base_url + CATALOG, timeout=10).status_code == 200


def test_truncated_body(emu: Emulator) -> None:
    emu.faults.truncate_rate = 1.0
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(emu.base_url + CATALOG, timeout=10)
    emu.faults.clear()
    assert emu.log[-1].fault == "truncate"


def test_faults_are_deterministic_given_a_seed(emu: Emulator) -> None:
    def statuses() -> list[int]:
        emu.faults.seed = 42  # re-seeds
        with emu.faults.injected(error_rate=0.5, error_statuses=(500, 503)):
            return [requests.get(emu.base_url + CATALOG, timeout=10).status_code for _ in range(24)]

    first = statuses()
    assert first == statuses()
    assert {200, 500, 503} == set(first)


def test_faults_validation() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)
    faults = Faults()
    with pytest.raises(ValueError, match="drop_rate"):
        faults.drop_rate = -0.1
    with pytest.raises(TypeError, match="unknown"), faults.injected(colour="red"):
        pass


def test_emulator_takes_faults_and_rate_limit() -> None:
    faults = Faults(error_rate=1.0, error_statuses=(503,))
    with Emulator(faults=faults, rate_limit=RateLimit(requests_per_minute=1000)) as emu:
        assert emu.faults is faults
        assert requests.get(emu.base_url + CATALOG, timeout=10).status_code == 503


# -- the request log --------------------------------------------------------------------------


def test_log_is_thread_safe(emu: Emulator) -> None:
    headers = bearer(emu)
    url = emu.base_url + CATALOG + "/collections"
    emu.log.clear()

    def worker() -> None:
        with requests.Session() as session:
            for _ in range(10):
                session.get(url, headers=headers, timeout=10)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(emu.log) == 60
    assert emu.log.count(path=CATALOG + "/collections", status=200) == 60
    assert all(isinstance(entry, ServedRequest) for entry in emu.log)


# -- catalog search (plain requests) ----------------------------------------------------------


def test_search_pages_follow_next(emulator: Emulator) -> None:
    headers = bearer(emulator)
    url = emulator.base_url + CATALOG + "/search"
    body = search_body()
    ids: list[str] = []
    while True:
        page = requests.post(url, json=body, headers=headers, timeout=10).json()
        assert page["type"] == "FeatureCollection"
        assert page["context"]["returned"] == len(page["features"]) <= 5
        ids += [feature["id"] for feature in page["features"]]
        if "next" not in page["context"]:
            assert all(link["rel"] != "next" for link in page["links"])
            break
        (link,) = [link for link in page["links"] if link["rel"] == "next"]
        assert link["body"]["next"] == page["context"]["next"]
        body = {**body, "next": page["context"]["next"]}
    assert len(ids) == len(set(ids)) > 5  # three summer months: more than one page


def test_search_get_follows_next_links(emulator: Emulator) -> None:
    headers = bearer(emulator)
    url: str | None = (
        emulator.base_url + CATALOG + "/search?collections=sentinel-2-l2a&bbox=13.8,45.8,14.5,46.3"
        "&datetime=2022-06-01T00:00:00Z/2022-08-31T23:59:59Z&limit=4"
    )
    ids: list[str] = []
    while url:
        page = requests.get(url, headers=headers, timeout=10).json()
        ids += [feature["id"] for feature in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    posted: list[str] = []
    body: dict[str, Any] = {**search_body(), "limit": 100}  # the service's largest page
    while True:
        post = requests.post(
            emulator.base_url + CATALOG + "/search", json=body, headers=headers, timeout=10
        ).json()
        posted += [feature["id"] for feature in post["features"]]
        if "next" not in post["context"]:
            break
        body = {**body, "next": post["context"]["next"]}
    assert ids == posted


def test_search_items_are_stac(emulator: Emulator) -> None:
    body = {**search_body(), "intersects": {"type": "Polygon", "coordinates": [
        [[13.8, 45.8], [14.5, 45.8], [14.5, 46.3], [13.8, 45.8]]]}}  # fmt: skip
    del body["bbox"]
    page = requests.post(
        emulator.base_url + CATALOG + "/search", json=body, headers=bearer(emulator), timeout=10
    ).json()
    feature = page["features"][0]
    assert feature["type"] == "Feature"
    assert feature["stac_version"] == "1.0.0"
    assert feature["collection"] == "sentinel-2-l2a"
    props = feature["properties"]
    assert props["constellation"] == "sentinel-2"
    assert props["platform"] in ("sentinel-2a", "sentinel-2b", "sentinel-2c")
    assert 0 <= props["eo:cloud_cover"] <= 100
    assert props["datetime"].endswith("Z")
    assert len(feature["bbox"]) == 4


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"collections": ["sentinel-1-grd"]}, "collections"),
        ({"limit": 101}, "limit"),
        ({"filter": "eo:snow_cover < 3"}, "Unsupported filter"),
        ({"datetime": "yesterday/today"}, "datetime"),
    ],
)
def test_search_errors(emulator: Emulator, change: dict[str, Any], fragment: str) -> None:
    response = requests.post(
        emulator.base_url + CATALOG + "/search",
        json={**search_body(), **change},
        headers=bearer(emulator),
        timeout=10,
    )
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_search_without_bbox_covers_the_globe(emulator: Emulator) -> None:
    body = {
        "collections": ["sentinel-2-l1c"],
        "datetime": "2023-01-01T00:00:00Z/2023-01-31T23:59:59Z",
    }
    page = requests.post(
        emulator.base_url + CATALOG + "/search", json=body, headers=bearer(emulator), timeout=10
    ).json()
    assert page["features"]
