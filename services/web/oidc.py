"""Signing in through the identity provider the API already trusts: OpenID Connect
authorization code with PKCE, with Authlib's client.

The browser is sent to the provider with a one-time state, nonce and PKCE challenge kept in a
short signed cookie; the provider sends it back with a code, exchanged for tokens at the token
endpoint. The access token is checked by the same verifier as the API's bearer tokens (issuer,
audience, keys, lifetime, the ``role`` and ``territory`` claims); the ID token's nonce must be
ours. Then the session starts as for any sign-in."""

import time
import warnings
from functools import lru_cache
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.guard import sessions_of
from services.web.render import page
from services.web.settings import WebSettings
from shared.api.auth import AuthenticationError
from shared.api.http import VerifierDep
from shared.api.throttle import Failures

with warnings.catch_warnings():  # Authlib 1.x announces a move of this client to "httpx2"
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

router = APIRouter(include_in_schema=False)
FLOW_COOKIE = "parcours_oidc"
FLOW_S = 600
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@lru_cache(maxsize=4)
def _configuration(issuer: str) -> dict[str, Any]:
    answer = httpx.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10)
    answer.raise_for_status()
    configuration: dict[str, Any] = answer.json()
    return configuration


def _client(web: WebSettings, request: Request) -> OAuth2Client:
    secret = web.oidc_client_secret.get_secret_value() if web.oidc_client_secret else None
    return OAuth2Client(
        client_id=web.oidc_client_id, client_secret=secret, scope=web.oidc_scope,
        redirect_uri=str(request.url_for("oidc_return")), code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post" if secret else "none")


def _web(request: Request) -> WebSettings:
    web: WebSettings = request.app.state.web_settings
    return web


@router.get("/connexion/fournisseur")
def start(request: Request) -> Response:
    """Sends the browser to the identity provider."""
    web = _web(request)
    if not web.oidc:
        return RedirectResponse("/connexion", status_code=303)
    flow = {"state": generate_token(32), "nonce": generate_token(32),
            "verifier": generate_token(64), "at": time.time()}
    with _client(web, request) as client:
        url, _ = client.create_authorization_url(
            _configuration(web.oidc_issuer or "")["authorization_endpoint"],
            state=flow["state"], nonce=flow["nonce"], code_verifier=flow["verifier"])
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a navigation from another site.
    response.set_cookie(FLOW_COOKIE, _sealed(request, flow), httponly=True, samesite="lax",
                        secure=request.url.hostname not in _LOOPBACK, max_age=FLOW_S,
                        path="/connexion")
    return response


@router.get("/connexion/retour", name="oidc_return")
def back(request: Request, verifier: VerifierDep, code: str = "", state: str = "",
         error: str = "") -> Response:
    """The provider sends the browser back here with a code to exchange for tokens."""
    web = _web(request)
    flow = _opened(request, request.cookies.get(FLOW_COOKIE))
    if request.app.state.failures.wait_s(request.client.host if request.client else None):
        return _refused(request, "")
    if error or not web.oidc or flow is None or not code or state != flow["state"]:
        return _refused(request, "La connexion n'a pas abouti ou a expiré : recommencez.")
    configuration = _configuration(web.oidc_issuer or "")
    try:
        with _client(web, request) as client:
            tokens = client.fetch_token(configuration["token_endpoint"], code=code,
                                        code_verifier=flow["verifier"])
        principal = verifier.verify(tokens["access_token"])
        if verifier.nonce_of(tokens.get("id_token", ""), web.oidc_client_id or "") \
                != flow["nonce"]:
            raise AuthenticationError("the ID token's nonce is not ours")
    except (AuthenticationError, httpx.HTTPError, KeyError, ValueError):
        return _refused(request, "Le fournisseur d'identité n'a pas confirmé votre identité, "
                        "ou votre compte n'a pas de rôle dans Parcours : contactez "
                        "l'administrateur.")
    sessions = sessions_of(request)
    session = sessions.start(principal, until=verifier.expiry_of(tokens["access_token"]))
    # A page, not a redirect: the browser is still in a navigation that began on the
    # provider's site, and would not send the new SameSite=Strict cookie on a redirect.
    response = HTMLResponse(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="0;url=/"><title>Connexion réussie</title></head>'
        '<body><p><a href="/">Continuer vers Parcours</a></p></body></html>')
    sessions.write(request, response, session)
    response.delete_cookie(FLOW_COOKIE, path="/connexion")
    request.state.web_session = None  # the middleware must not overwrite the new cookie
    return response


def _refused(request: Request, message: str) -> Response:
    failures: Failures = request.app.state.failures
    address = request.client.host if request.client else None
    status = 401
    if failures.wait_s(address) > 0:
        status, message = 429, ("Trop de tentatives refusées depuis cette adresse : "
                                "réessayez dans une minute.")
    else:
        failures.failed(address)
    response = page(request, "connexion.html", status=status, users=[], embedded=False,
                    oidc=_web(request).oidc, banner=message)
    response.delete_cookie(FLOW_COOKIE, path="/connexion")
    return response


def _sealed(request: Request, flow: dict[str, Any]) -> str:
    return sessions_of(request).seal(flow, purpose=b"oidc:")


def _opened(request: Request, value: str | None) -> dict[str, Any] | None:
    flow = sessions_of(request).unseal(value, purpose=b"oidc:")
    return flow if flow and time.time() - float(flow["at"]) <= FLOW_S else None
