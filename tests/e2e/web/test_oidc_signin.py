"""Signing in to the pages through an OpenID Connect provider (authorization code with PKCE).

The provider here is a minimal one written for the test, on loopback: it checks the PKCE
challenge and signs its tokens with the tests' key, as a real provider would with its own. What
this proves is Parcours' side of the flow (state, PKCE, nonce, the access token checked as the
API checks bearer tokens, the session); a test against a real provider comes with the
production set-up."""

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared.api.auth import development_key
from shared.api.server import ApiServer
from shared.runtime.settings import Settings
from tests.conftest import _KEY, PUBLIC_KEY
from tests.integration.notification_helpers import free_port

CLIENT_ID = "parcours-web"


class Provider:
    """Authorizes one fictitious case manager at once, and remembers each code's challenge."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.codes: dict[str, dict[str, str]] = {}
        self.app = FastAPI()
        self.app.get("/.well-known/openid-configuration")(self.configuration)
        self.app.get("/authorize")(self.authorize)
        self.app.post("/token")(self.token)

    def configuration(self) -> dict[str, str]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token"}

    def authorize(self, client_id: str, redirect_uri: str, state: str, nonce: str,
                  code_challenge: str, code_challenge_method: str) -> RedirectResponse:
        assert client_id == CLIENT_ID and code_challenge_method == "S256"
        code = f"code-{len(self.codes)}"
        self.codes[code] = {"challenge": code_challenge, "nonce": nonce,
                            "redirect_uri": redirect_uri}
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    def token(self, code: str = Form(), code_verifier: str = Form(),
              redirect_uri: str = Form(), client_id: str = Form()) -> dict[str, Any]:
        grant = self.codes.pop(code, None)
        digest = hashlib.sha256(code_verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if grant is None or grant["challenge"] != challenge \
                or grant["redirect_uri"] != redirect_uri or client_id != CLIENT_ID:
            raise HTTPException(400, "invalid_grant")
        now, key = int(time.time()), development_key(_KEY)
        base = {"iss": self.issuer, "sub": "gc-oidc", "iat": now, "exp": now + 600}
        access = jwt.encode({**base, "aud": "parcours", "name": "Gestionnaire OIDC",
                             "role": "case_manager", "territory": "dac-val-fictif"},
                            key, algorithm="ES256")
        identity = jwt.encode({**base, "aud": CLIENT_ID, "nonce": grant["nonce"]}, key,
                              algorithm="ES256")
        return {"access_token": access, "id_token": identity, "token_type": "Bearer",
                "expires_in": 600}


@pytest.fixture
def provider() -> Iterator[Provider]:
    provider = Provider()
    server = ApiServer(provider.app, "127.0.0.1", provider.port).start()
    yield provider
    server.stop()


@pytest.fixture
def browser(provider: Provider, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("PARCOURS_WEB_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("PARCOURS_WEB_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.delenv("PARCOURS_AUTH_DEV_KEY_PATH")  # a real provider, not the dev login
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", demo_on_empty=False,
                        auth_issuer=provider.issuer, auth_public_key=PUBLIC_KEY,
                        scheduler_interval_s=3600, alerts_at_once=False)
    with TestClient(create_app(settings), base_url="http://127.0.0.1",
                    follow_redirects=False) as client:
        yield client


def _to_provider(browser: TestClient) -> str:
    sent = browser.get("/connexion/fournisseur")
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"]
    return location


def test_a_professional_signs_in_through_the_provider(browser: TestClient,
                                                      provider: Provider) -> None:
    assert "fournisseur d'identité" in browser.get("/connexion").text
    location = _to_provider(browser)
    with TestClient(provider.app, follow_redirects=False) as at_provider:
        back = at_provider.get(location.removeprefix(provider.issuer))
    returned = browser.get(back.headers["location"].removeprefix("http://127.0.0.1"))
    assert returned.status_code == 200, returned.text
    assert 'http-equiv="refresh"' in returned.text
    home = browser.get("/file-active")
    assert home.status_code == 200, home.text
    assert "Ma file active" in home.text


def test_a_forged_state_or_a_replayed_code_signs_nobody_in(browser: TestClient,
                                                          provider: Provider) -> None:
    location = _to_provider(browser)
    with TestClient(provider.app, follow_redirects=False) as at_provider:
        back = urlsplit(at_provider.get(location.removeprefix(provider.issuer))
                        .headers["location"])
    code = parse_qs(back.query)["code"][0]
    forged = browser.get(f"/connexion/retour?{urlencode({'code': code, 'state': 'x'})}")
    assert forged.status_code == 401
    assert "recommencez" in forged.text
    assert browser.get("/file-active").status_code == 303  # still signed out

    no_flow = TestClient(browser.app, base_url="http://127.0.0.1", follow_redirects=False)
    replayed = no_flow.get(f"/connexion/retour?{back.query}")  # without the flow's cookie
    assert replayed.status_code == 401
