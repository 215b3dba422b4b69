"""Guessing is slowed down: past a setting's worth of refused tokens or failed sign-ins from
one address within a minute, that address is answered 429; other addresses are not. (The
addresses are the in-process test client's, no traffic leaves the process.)"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared.runtime.settings import Settings
from tests.e2e.conftest import HEADERS

ATTACKER, COLLEAGUE = ("192.0.2.66", 40000), ("192.0.2.10", 40000)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    application = create_app(Settings(mode="embedded", data_dir=tmp_path / "var",
                                      demo_on_empty=False, auth_max_failures=3))
    with TestClient(application):
        yield application


def test_refused_tokens_from_one_address_end_in_429_for_it_only(app: FastAPI) -> None:
    attacker = TestClient(app, client=ATTACKER)
    for _ in range(3):
        assert attacker.get("/caseload", headers={"Authorization": "Bearer x.y.z"}
                            ).status_code == 401
    refused = attacker.get("/caseload", headers={"Authorization": "Bearer x.y.z"})
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "auth.too_many_failures"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert attacker.get("/caseload", headers=HEADERS).status_code == 429  # even a good one
    colleague = TestClient(app, client=COLLEAGUE)
    assert colleague.get("/caseload", headers=HEADERS).status_code == 200


def _sign_in(browser: TestClient, user: str) -> int:
    form = browser.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    return browser.post("/connexion", data={"user": user, "csrf": token.group(1)}
                        ).status_code


def test_failed_sign_ins_from_one_address_end_in_429_for_it_only(app: FastAPI) -> None:
    attacker = TestClient(app, base_url="http://127.0.0.1", client=ATTACKER,
                          follow_redirects=False)
    assert [_sign_in(attacker, "personne") for _ in range(3)] == [422, 422, 422]
    assert _sign_in(attacker, "gc-anne") == 429
    colleague = TestClient(app, base_url="http://127.0.0.1", client=COLLEAGUE,
                           follow_redirects=False)
    assert _sign_in(colleague, "gc-anne") == 303
