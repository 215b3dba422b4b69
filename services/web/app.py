"""Plugs the web interface into the platform's FastAPI application: the pages, the static
files, the session refresh, and French error pages for the pages' addresses."""

import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import Scope

from services.web import alerts, casefile, coordination, guard, oidc, referrals, signin
from services.web.sessions import Session, Sessions
from services.web.settings import WebSettings
from shared.api.asgi import EditHeaders
from shared.domain.errors import ForbiddenError, ParcoursError, PathwayNotFoundError

STATIC = Path(__file__).parent / "static"
PREFIXES = ("/connexion", "/deconnexion", "/accueil", "/file-active", "/dossiers", "/alertes",
            "/orientation", "/plans-a-valider", "/coordination")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
"""The pages' policy: scripts, styles and the alert stream from the platform only, nothing
inline."""


def favicon() -> FileResponse:
    """Where every browser looks for the tab's icon, whatever the page says."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


def is_page(path: str) -> bool:
    return path == "/" or path.startswith(PREFIXES) or path.startswith("/static/")


def install(app: FastAPI, web: WebSettings, sessions: Sessions) -> None:
    """``web``, ``sessions``: the pages' settings and sessions, built by the composition root."""
    app.state.web_settings = web
    app.state.web_sessions = sessions
    for pages in (signin, oidc, casefile, alerts, referrals, coordination):
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/favicon.ico", favicon, methods=["GET"], include_in_schema=False)
    json_handlers = dict(app.exception_handlers)

    def refresh_session(scope: Scope, headers: MutableHeaders) -> None:
        """A page answered to a signed-in professional renews their session's idle time."""
        path = scope["path"]
        if not is_page(path) or path.startswith(("/static/", "/alertes/flux")):
            return  # first: an API call pays nothing here
        request = Request(scope)
        session = getattr(request.state, "web_session", None)
        if session is None:
            return
        renewed = Response()
        sessions: Sessions = request.app.state.web_sessions
        sessions.write(request, renewed, Session(session.sid, session.principal, time.time(),
                                                 session.expires))
        for name, value in renewed.raw_headers:
            if name == b"set-cookie":
                headers.append("set-cookie", value.decode("latin-1"))

    app.add_middleware(EditHeaders, edit=refresh_session)

    def fallback(kind: type[Exception] | int) -> Callable[..., Response]:
        handler = json_handlers.get(kind)
        assert handler is not None
        return handler

    async def not_found(request: Request, error: Exception) -> Response:
        if is_page(request.url.path):
            return guard.not_found_page(request)
        return await _call(fallback(ParcoursError), request, error)

    async def forbidden(request: Request, error: Exception) -> Response:
        if is_page(request.url.path):
            assert isinstance(error, ForbiddenError)
            return guard.forbidden_page(request, error.message)
        return await _call(fallback(ParcoursError), request, error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if is_page(request.url.path) and error.status_code in (404, 405):
            return guard.not_found_page(request)
        return await _call(fallback(HTTPException), request, error)  # the API's error shape

    async def invalid(request: Request, error: Exception) -> Response:
        if is_page(request.url.path):
            return guard.not_found_page(request, "L'adresse demandée n'est pas valide.")
        return await _call(fallback(RequestValidationError), request, error)

    async def sign_in_required(request: Request, _: Exception) -> Response:
        return RedirectResponse("/connexion?motif=session", status_code=303)

    async def csrf(request: Request, _: Exception) -> Response:
        return guard.forbidden_page(request, "Le formulaire a expiré ou ne vient pas de "
                                    "Parcours : rechargez la page puis recommencez.")

    async def unexpected(request: Request, error: Exception) -> Response:
        if is_page(request.url.path):
            return guard.error_page(request)  # never a stack trace; the log keeps it
        return await _call(fallback(Exception), request, error)

    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(PathwayNotFoundError, not_found)
    app.add_exception_handler(ForbiddenError, forbidden)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(guard.SignInRequiredError, sign_in_required)
    app.add_exception_handler(guard.CsrfError, csrf)


async def _call(handler: Callable[..., object], request: Request, error: Exception) -> Response:
    result = handler(request, error)
    if hasattr(result, "__await__"):
        result = await result
    assert isinstance(result, Response)
    return result
