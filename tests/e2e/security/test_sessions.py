"""A web session ends at sign-out for every copy of its cookie, at an absolute lifetime however
active it is, and no later than the identity provider's token; an open alert stream ends
with it."""

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from parcours.bootstrap import create_app
from services.web.sessions import COOKIE, Session, Sessions
from services.web.settings import WebSettings
from shared.api.server import ApiServer
from shared.domain.principal import Principal
from shared.runtime.settings import Settings
from tests.integration.notification_helpers import free_port, wait_until

ANNE = Principal("gc-anne", "Anne Fictif", "case_manager", "dac-val-fictif")


def _app(tmp_path: Path) -> FastAPI:
    return create_app(Settings(mode="embedded", data_dir=tmp_path / "var", demo_on_empty=False,
                               scheduler_interval_s=3600, alerts_at_once=False))


def _sign_in(browser: TestClient, user: str) -> str:
    form = browser.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    answer = browser.post("/connexion", data={"user": user, "csrf": token.group(1)})
    assert answer.status_code == 303, answer.text
    return browser.cookies[COOKIE]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(_app(tmp_path), base_url="http://127.0.0.1",
                    follow_redirects=False) as client:
        yield client


def _csrf(browser: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', browser.get(path).text)
    assert found
    return found.group(1)


def test_a_cookie_replayed_after_sign_out_opens_nothing(browser: TestClient) -> None:
    stolen = _sign_in(browser, "coord-demo")
    assert browser.get("/coordination").status_code == 200
    answer = browser.post("/deconnexion", data={"csrf": _csrf(browser, "/coordination")})
    assert answer.status_code == 303
    thief = TestClient(browser.app, base_url="http://127.0.0.1", follow_redirects=False)
    thief.cookies.set(COOKIE, stolen)
    replayed = thief.get("/coordination")
    assert replayed.status_code == 303 and "/connexion" in replayed.headers["location"]


def test_signing_out_ends_only_that_session(browser: TestClient) -> None:
    _sign_in(browser, "coord-demo")
    other = TestClient(browser.app, base_url="http://127.0.0.1", follow_redirects=False)
    _sign_in(other, "coord-demo")
    browser.post("/deconnexion", data={"csrf": _csrf(browser, "/coordination")})
    assert other.get("/coordination").status_code == 200


def test_a_session_ends_at_its_absolute_lifetime_however_active() -> None:
    sessions = Sessions(b"k" * 32, idle_s=1800, absolute_s=12 * 3600)
    started = sessions.start(ANNE)
    assert started.expires == pytest.approx(started.seen + 12 * 3600)
    # Active all along: the pages renewed it a minute ago, every minute.
    moment = started.expires + 1
    renewed = sessions.encode(Session(started.sid, ANNE, moment - 60, started.expires))
    assert sessions.decode(renewed, now=moment - 2) is not None
    assert sessions.decode(renewed, now=moment) is None


def test_the_lifetime_setting_allows_a_working_day_at_most() -> None:
    assert WebSettings().absolute_hours == 12
    with pytest.raises(ValidationError):
        WebSettings(absolute_hours=13)


def test_after_a_providers_sign_in_the_session_ends_with_its_token() -> None:
    sessions = Sessions(b"k" * 32, idle_s=1800)
    token_ends = time.time() + 300
    session = sessions.start(ANNE, until=token_ends)
    assert session.expires == token_ends
    assert sessions.decode(sessions.encode(session), now=token_ends + 1) is None


def test_the_web_alert_stream_ends_at_sign_out(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_SSE_POLL_S", "0.1")
    app = _app(tmp_path)
    port = free_port()
    server = ApiServer(app, "127.0.0.1", port).start()
    try:
        base = f"http://127.0.0.1:{port}"
        browser = TestClient(app, base_url=base, follow_redirects=False)  # the server's app
        cookie = _sign_in(browser, "gc-anne")
        lines: list[str] = []

        def read() -> None:
            with httpx.Client(base_url=base, cookies={COOKIE: cookie},
                              timeout=httpx.Timeout(10, read=None)) as client, \
                    client.stream("GET", "/alertes/flux") as stream:
                assert stream.status_code == 200
                lines.extend(stream.iter_lines())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        hub = app.state.notifications.hub
        wait_until(lambda: hub.open_count("gc-anne") == 1, 10, "the stream to open")
        browser.post("/deconnexion", data={"csrf": _csrf(browser, "/alertes")})
        reader.join(timeout=10)
        assert not reader.is_alive(), "the stream outlived the session"
        assert any("signed_out" in line for line in lines), lines
    finally:
        server.stop()
