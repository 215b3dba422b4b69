"""A page renews the session's idle time; the API and the static files do not set it; every
answer carries the security headers (both done as the answer's headers leave)."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from services.web.sessions import COOKIE
from shared.runtime.settings import Settings


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", demo_on_empty=False,
                        scheduler_interval_s=3600, alerts_at_once=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1",
                    follow_redirects=False) as client:
        yield client


def _signed_in(browser: TestClient) -> None:
    form = browser.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    answer = browser.post("/connexion", data={"user": "gc-anne", "csrf": token.group(1)})
    assert answer.status_code == 303 and COOKIE in answer.headers.get("set-cookie", "")


def test_a_page_renews_the_session_and_the_api_does_not(browser: TestClient) -> None:
    _signed_in(browser)
    page = browser.get("/file-active")
    assert page.status_code == 200
    renewed = page.headers.get("set-cookie", "")
    assert renewed.startswith(f"{COOKIE}=") and "HttpOnly" in renewed
    assert "SameSite=strict" in renewed or "samesite=strict" in renewed.lower()
    assert "set-cookie" not in browser.get("/health").headers
    assert "set-cookie" not in browser.get("/static/parcours.css").headers


def test_every_answer_carries_the_security_headers(browser: TestClient) -> None:
    for path, policy in (("/health", "default-src 'none'"), ("/connexion", "script-src 'self'"),
                         ("/pathways/not-a-uuid", "default-src 'none'")):
        answer = browser.get(path)
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert answer.headers["Cache-Control"] == "no-store", path
        assert policy in answer.headers["Content-Security-Policy"], path
