"""Finding 9: request limits, one error shape, bad tokens of every kind, private files, and a
ceiling on open alert streams."""

import base64
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from projections.contacts.api import EXPORTS
from shared import fictitious as f
from shared.api.auth import development_key
from shared.api.server import ApiServer
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.api import admit, dump, manager, referred
from tests.e2e.conftest import HEADERS, MANAGER
from tests.integration.notification_helpers import SseClient, free_port, wait_until

DEV_KEY = development_key(Path(os.environ["PARCOURS_AUTH_DEV_KEY_PATH"]))


def _shape(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text[:500]
    error = answer.json()["error"]
    assert error["code"] == code and error["message"], error
    assert set(answer.json()) == {"error"}
    return dict(error)


def test_a_large_body_is_refused_before_it_is_read_or_the_token_checked(
    client: TestClient
) -> None:
    huge = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    answer = client.post("/pathways", content=huge, headers={
        "Content-Type": "application/json", "Authorization": ""})
    _shape(answer, 413, "request.too_large")
    assert len(answer.content) < 1000

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"a" * 65536
    chunked = client.post("/pathways", content=chunks(),
                          headers={"Content-Type": "application/json"})
    _shape(chunked, 413, "request.too_large")
    assert client.post("/pathways", content=b"{}", headers={
        "Content-Type": "application/json"}).status_code == 422  # small ones go on


def test_a_422_lists_at_most_twenty_errors(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    body = {"revised_on": "2026-02-01", "problems": [{"x": i} for i in range(5000)]}
    answer = client.post(f"/pathways/{pathway}/plan-revisions", json=body, headers=MANAGER)
    error = _shape(answer, 422, "request.invalid")
    details = error["details"]
    assert isinstance(details, dict)
    assert len(details["fields"]) == 20 and details["count"] > 20
    assert len(answer.content) < 10_000


def test_every_error_has_the_documented_shape(client: TestClient) -> None:
    _shape(client.get("/nulle-part"), 404, "route.not_found")
    _shape(client.delete("/health"), 405, "method.not_allowed")
    _shape(client.post("/pathways", content=b'{"a": "\xff\xfe"}',
                       headers={"Content-Type": "application/json"}), 400, "request.malformed")


def _token(claims: dict[str, object], key: object = DEV_KEY, algorithm: str = "ES256") -> str:
    now = int(time.time())
    base: dict[str, object] = {"iss": "parcours-dev", "aud": "parcours", "sub": "coord-1",
                               "name": "C", "role": "coordinator", "territory": "dac-val-fictif",
                               "iat": now, "exp": now + 3600}
    return jwt.encode({**base, **claims}, key, algorithm=algorithm)  # type: ignore[arg-type]


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


BAD_TOKENS = {
    "rs256 over the ec key": lambda: _token({}, rsa.generate_private_key(65537, 2048), "RS256"),
    "hs256 with the public key as secret": lambda: _token({}, b"x" * 32, "HS256"),
    "alg none": lambda: _unsigned({"sub": "coord-1", "role": "coordinator"}),
    "territory is a list": lambda: _token({"territory": ["dac-val-fictif", "autre"]}),
    "territory is an object": lambda: _token({"territory": {"$ne": None}}),
    "sub is a number": lambda: _token({"sub": 12}),
    "name is a list": lambda: _token({"name": ["a"]}),
    "role is a list": lambda: _token({"role": ["coordinator"]}),
    "iat is text": lambda: _token({"iat": "hier"}),
    "lifetime of 24 hours": lambda: _token({"exp": int(time.time()) + 24 * 3600}),
    "lifetime of 13 hours": lambda: _token({"exp": int(time.time()) + 13 * 3600}),
    "garbage": lambda: "pas.un.jeton",
    "not base64": lambda: "%%%.%%%.%%%",
    "header only": lambda: "eyJhbGciOiJFUzI1NiJ9",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_token_of_any_kind_answers_401(client: TestClient, kind: str) -> None:
    token = BAD_TOKENS[kind]()
    for path in ("/caseload", "/alerts", "/pathways/00000000-0000-4000-8000-000000000000"):
        _shape(client.get(path, headers={"Authorization": f"Bearer {token}"}), 401,
               "auth.required")


def test_a_token_within_the_lifetime_still_works(client: TestClient) -> None:
    token = _token({"exp": int(time.time()) + 11 * 3600})
    assert client.get("/caseload", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200


def test_the_data_folder_and_its_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    (data / "journal.sqlite").touch(mode=0o644)  # made by an earlier version
    with TestClient(create_app(Settings(mode="embedded", data_dir=data)),
                    headers=HEADERS) as client:
        manager(client, "gc-1")
        referred(client, 1)
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = sorted(p.name for p in data.iterdir())
        assert {"journal.sqlite", "views.sqlite"} <= set(files)
        for found in data.iterdir():
            assert stat.S_IMODE(found.stat().st_mode) == 0o600, (found.name, oct(
                found.stat().st_mode))


def test_a_professional_holds_a_few_alert_streams_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_SSE_MAX_STREAMS", "2")
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_SSE_POLL_S", "0.1")
    port = free_port()
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var", demo_on_empty=False))
    server = ApiServer(app, "127.0.0.1", port).start()
    try:
        url = f"http://127.0.0.1:{port}/notifications/stream/gc-1"
        first = SseClient(url)
        second = SseClient(url)
        hub = app.state.notifications.hub
        wait_until(lambda: hub.open_count("gc-1") == 2, 10, "two streams")
        third = SseClient(url)
        (closed,) = first.wait_for(1)
        assert closed["event"] == "closed" and "too_many_streams" in closed["data"]
        first.join()
        assert not first.thread.is_alive()
        wait_until(lambda: hub.open_count("gc-1") == 2, 10, "the oldest closed")
        assert second.events == [] and third.events == []
        other = SseClient(f"http://127.0.0.1:{port}/notifications/stream/gc-2")
        assert other.status == 200 and hub.open_count("gc-2") == 1
    finally:
        server.stop()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var"))
    with TestClient(app, headers=HEADERS) as test_client:
        yield test_client


__all__ = ["bearer"]


def test_a_version_too_large_for_the_store_is_a_malformed_request(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    huge = "99999999999999999999"
    for answer in (client.get(f"/pathways/{pathway}", params={"version": huge}),
                   client.get(f"/pathways/{pathway}/plan-revisions/{huge}/diff/1"),
                   client.post(f"/pathways/{pathway}/plan-revisions/{huge}/validation",
                               json={"validated_on": "2026-02-01"}),
                   client.post(f"/pathways/{pathway}/notes", headers={"If-Match": huge},
                               json=dump(f.note()))):
        assert answer.status_code == 422, (answer.request.url, answer.text)
        assert answer.json()["error"]["code"] == "request.invalid", answer.text


def test_one_graph_export_at_a_time_per_professional(client: TestClient) -> None:
    with EXPORTS.hold("coord-1"):  # as if coord-1's previous export were still running
        busy = client.get("/graph/export")
        assert busy.status_code == 429, busy.text
        assert busy.json()["error"]["code"] == "request.in_progress"
        assert busy.headers["Retry-After"] == "5"
        other = client.get("/graph/export", headers=bearer("coord-2", "coordinator"))
        assert other.status_code == 200, other.text
    assert client.get("/graph/export").status_code == 200
