"""Who may see and do what: every role against every kind of endpoint, care-circle periods,
territories, the read audit, and the HTTP hardening."""

import os
import random
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.api import dump, pathway_of
from tests.e2e.conftest import referral_json

T = f.TERRITORY
USERS = {
    "coordinator": bearer("coord-1", "coordinator"),
    "other coordinator": bearer("coord-x", "coordinator", "dac-autre"),
    "its case manager": bearer("gc-1", "case_manager"),
    "another case manager": bearer("gc-2", "case_manager"),
    "its referrer": bearer("dr-1", "referrer", None),
    "care-circle member": bearer("nurse-1", "referrer", None),
    "analyst": bearer("analyste-1", "analyst", None),
    "administrator": bearer("admin-1", "administrator"),
}


class Clock:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", scheduler_interval_s=3600,
                        alerts_at_once=False,
                        cors_origins=["https://parcours.exemple.invalid"])
    with TestClient(create_app(settings, clock)) as test_client:
        yield test_client


def call(client: TestClient, who: str, method: str, path: str, body: Any = None) -> int:
    return client.request(method, path, json=body, headers=USERS[who]).status_code


@pytest.fixture
def pathway(client: TestClient) -> str:
    """Referred by dr-1, admitted, followed by gc-1, nurse-1 in the care circle."""
    referral = f.referral(random.Random(1)).model_dump(mode="json", exclude={"referral_id"})
    referral["referrer"]["id"] = "dr-1"
    coordinator = USERS["coordinator"]
    for manager in ("gc-1", "gc-2"):
        client.put(f"/territories/{T}/case-managers/{manager}", json={"name": manager},
                   headers=coordinator).raise_for_status()
    created = client.post("/pathways", json=referral, headers=USERS["its referrer"])
    assert created.status_code == 202, created.text  # a referrer is told the referral only
    pathway_id = pathway_of(client, referral["person"]["ins"])
    client.post(f"/pathways/{pathway_id}/admission",
                json={"decided_on": "2026-01-20", "case_manager_id": "gc-1"},
                headers=coordinator).raise_for_status()
    client.post(f"/pathways/{pathway_id}/care-circle", json=dump(f.member("nurse-1", "nurse")),
                headers=USERS["its case manager"]).raise_for_status()
    return pathway_id


# who → expected status, in the order of USERS
MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    ("GET", "/pathways/{p}", None, (200, 404, 200, 404, 404, 200, 404, 404)),
    ("GET", "/pathways/{p}/journal", None, (200, 404, 200, 404, 404, 200, 404, 404)),
    ("GET", "/pathways/{p}/plan-revisions", None, (200, 404, 200, 404, 404, 200, 404, 404)),
    ("GET", "/pathways/{p}/referral", None, (200, 404, 200, 404, 200, 200, 404, 404)),
    ("GET", "/pathways/{p}/access-log", None, (200, 404, 404, 404, 404, 404, 404, 404)),
    ("GET", "/graph/persons/{p}/care-circle", None, (200, 404, 200, 404, 404, 200, 404, 404)),
    ("POST", "/pathways/{p}/notes", "note", (200, 404, 200, 404, 404, 403, 404, 404)),
    ("POST", "/pathways/{p}/admission", {"decided_on": "2026-01-21"},
     (409, 404, 403, 404, 404, 403, 404, 404)),
    ("POST", "/pathways", "referral", (201, 403, 201, 201, 202, 202, 403, 403)),
    ("GET", "/caseload", None, (200, 200, 403, 403, 403, 403, 200, 403)),
    ("GET", "/caseload/gc-1", None, (200, 200, 200, 403, 403, 403, 403, 403)),
    ("GET", "/caseload/awaiting-decision", None, (200, 200, 403, 403, 403, 403, 403, 403)),
    ("GET", f"/caseload/territories/{T}", None, (200, 403, 403, 403, 403, 403, 403, 403)),
    ("GET", f"/territories/{T}/case-managers", None, (200, 403, 403, 403, 403, 403, 403, 200)),
    ("PUT", f"/territories/{T}/case-managers/gc-9", {"name": "Neuf"},
     (200, 403, 403, 403, 403, 403, 403, 200)),
    ("GET", f"/territories/{T}/waiting-list", None, (200, 403, 403, 403, 403, 403, 403, 403)),
    ("GET", "/alerts", None, (200, 200, 200, 200, 200, 200, 403, 403)),
    ("GET", "/dysfunctions/summary", None, (200, 200, 403, 403, 403, 403, 200, 403)),
    ("GET", "/dysfunctions", None, (200, 200, 403, 403, 403, 403, 403, 403)),
    ("GET", "/graph/pairs", None, (200, 200, 403, 403, 403, 403, 403, 403)),
    ("GET", "/graph/export", None, (200, 200, 403, 403, 403, 403, 403, 403)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_on_each_endpoint(client: TestClient, pathway: str, method: str, path: str,
                                    body: Any, expected: tuple[int, ...]) -> None:
    seeds = iter(range(100, 200))
    statuses = {}
    for who in USERS:
        payload = body
        if body == "note":
            payload = dump(f.note())
        elif body == "referral":
            payload = referral_json(next(seeds))
        statuses[who] = call(client, who, method, path.format(p=pathway), payload)
    assert statuses == dict(zip(USERS, expected, strict=True))


OPEN = {"/health", "/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/login",
        "/fhir/metadata"}


def test_no_endpoint_answers_without_a_token(client: TestClient) -> None:
    checked = 0
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        if template in OPEN:
            continue
        path = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", template)
        for method in operations:
            response = client.request(method.upper(), path, json={})
            assert response.status_code == 401, f"{method} {template}: {response.status_code}"
            checked += 1
    assert checked > 40
    assert client.get("/health").status_code == 200
    assert client.get("/login", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_a_forged_or_expired_token_is_refused(client: TestClient) -> None:
    header, payload, _ = USERS["coordinator"]["Authorization"].split(".")
    forged = {"Authorization": f"{header}.{payload}.c2lnbmF0dXJl"}
    assert client.get("/caseload", headers=forged).status_code == 401

    from shared.api.auth import Principal, development_key, sign

    key = development_key(Path(os.environ["PARCOURS_AUTH_DEV_KEY_PATH"]))
    expired = sign(key, Principal("coord-1", "C", "coordinator", T), "parcours-dev", "parcours",
                   lifetime_s=-10)
    response = client.get("/caseload", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "reconnectez-vous" in response.json()["error"]["message"]


def test_membership_periods_decide_access(client: TestClient, pathway: str,
                                          clock: Clock) -> None:
    physio = dump(f.member("kine-1", "physiotherapist")) | {"joined_on": "2026-04-01"}
    clock.now = datetime(2026, 6, 1, tzinfo=UTC)  # the membership is recorded afterwards
    client.post(f"/pathways/{pathway}/care-circle", json=physio,
                headers=USERS["its case manager"]).raise_for_status()
    kine = bearer("kine-1", "referrer", None)

    def status(day: date) -> int:
        clock.now = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        return client.get(f"/pathways/{pathway}", headers=kine).status_code

    assert status(date(2026, 3, 31)) == 404  # not yet a member
    assert status(date(2026, 4, 1)) == 200  # joins: gains access from that date
    clock.now = datetime(2026, 6, 1, tzinfo=UTC)
    client.post(f"/pathways/{pathway}/care-circle/kine-1/departure",
                json={"left_on": "2026-05-15"},
                headers=USERS["its case manager"]).raise_for_status()
    assert status(date(2026, 5, 14)) == 200
    assert status(date(2026, 5, 15)) == 404  # left: loses access from that date


def test_the_actor_comes_from_the_token(client: TestClient, pathway: str) -> None:
    client.post(f"/pathways/{pathway}/notes", json=dump(f.note()),
                headers=USERS["its case manager"]).raise_for_status()
    forged = dump(f.note()) | {"actor": {"id": "someone-else", "role": "coordinator"}}
    assert call(client, "its case manager", "POST", f"/pathways/{pathway}/notes", forged) == 422
    journal = client.get(f"/pathways/{pathway}/journal", headers=USERS["coordinator"]).json()
    assert journal[-1]["type"] == "FollowUpNoted"
    assert journal[-1]["actor"] == {"id": "gc-1", "role": "case_manager"}
    assert journal[0]["actor"] == {"id": "dr-1", "role": "referrer"}


def test_every_read_of_a_file_is_audited_even_when_refused(client: TestClient, pathway: str,
                                                          tmp_path: Path) -> None:
    call(client, "its case manager", "GET", f"/pathways/{pathway}")
    call(client, "another case manager", "GET", f"/pathways/{pathway}/journal")
    log = client.get(f"/pathways/{pathway}/access-log", headers=USERS["coordinator"]).json()
    seen = [(r["actor_id"], r["actor_role"], r["action"], r["outcome"]) for r in log]
    assert ("gc-1", "case_manager", "pathway", "allowed") in seen
    assert ("gc-2", "case_manager", "journal", "refused") in seen
    assert seen[-1] == ("coord-1", "coordinator", "access-log", "allowed")
    assert all(r["address"] == "testclient" and r["at"] for r in log)

    audit = sqlite3.connect(tmp_path / "var" / "views.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        audit.execute("UPDATE read_audit SET outcome = 'allowed'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        audit.execute("DELETE FROM read_audit")


def test_security_headers_and_cors(client: TestClient) -> None:
    response = client.get("/caseload", headers=USERS["coordinator"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "server" not in {k.lower() for k in response.headers if k.lower() == "x-powered-by"}
    allowed = client.options("/caseload", headers={
        "Origin": "https://parcours.exemple.invalid", "Access-Control-Request-Method": "GET"})
    assert allowed.headers["access-control-allow-origin"] == "https://parcours.exemple.invalid"
    refused = client.options("/caseload", headers={
        "Origin": "https://ailleurs.invalid", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in refused.headers


def test_an_unexpected_error_shows_no_stack_trace(client: TestClient, pathway: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    platform = client.app.state.platform  # type: ignore[attr-defined]

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(platform.journal, "events_of", broken)
    no_raise = TestClient(client.app, raise_server_exceptions=False)
    response = no_raise.get(f"/pathways/{pathway}/journal", headers=USERS["coordinator"])
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.json()["error"]["code"] == "server.error"
