"""Signing in (the demo users, in the embedded mode) and out."""


from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web.guard import (
    PRE_COOKIE,
    CsrfError,
    PartsDep,
    Posted,
    User,
    current_session,
    see_other,
    sessions_of,
)
from services.web.render import page
from services.web.sessions import Session
from shared.api.http import SettingsDep
from shared.api.throttle import Failures
from shared.domain.errors import ForbiddenError
from shared.domain.principal import Principal
from shared.fictitious import DEMO_USERS

router = APIRouter(include_in_schema=False)


HOMES = {"case_manager": "/file-active", "coordinator": "/coordination",
         "referrer": "/orientations", "analyst": "/accueil", "administrator": "/accueil"}


@router.get("/")
def home(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return see_other("/connexion")
    return see_other(HOMES.get(session.principal.role, "/accueil"))


@router.get("/connexion")
def sign_in_form(request: Request, parts: PartsDep) -> Response:
    import secrets

    nonce = secrets.token_urlsafe(16)
    embedded = parts.settings.dev_key_path() is not None
    response = page(request, "connexion.html", users=list(DEMO_USERS.values()),
                    embedded=embedded, oidc=request.app.state.web_settings.oidc,
                    pre_csrf=sessions_of(request).csrf_token(
                        Session(nonce, Principal("", "", "referrer", None), 0)),
                    reason=request.query_params.get("motif"))
    response.set_cookie(PRE_COOKIE, nonce, httponly=True, samesite="strict",
                        secure=request.url.hostname not in ("127.0.0.1", "localhost"),
                        max_age=900, path="/connexion")
    return response


@router.post("/connexion")
async def sign_in(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    nonce = request.cookies.get(PRE_COOKIE, "")
    sessions = sessions_of(request)
    token = form.get("csrf")
    if not nonce or not sessions.csrf_ok(
            Session(nonce, Principal("", "", "referrer", None), 0),
            token if isinstance(token, str) else None):
        raise CsrfError()
    if settings.dev_key_path() is None:
        raise ForbiddenError("La connexion passe par le fournisseur d'identité.")
    failures: Failures = request.app.state.failures
    address = request.client.host if request.client else None
    if failures.wait_s(address) > 0:
        return page(request, "connexion.html", status=429,
                    users=list(DEMO_USERS.values()), embedded=True, pre_csrf=token,
                    errors={"user": "Trop de tentatives refusées depuis cette adresse : "
                                    "réessayez dans une minute."})
    principal = DEMO_USERS.get(str(form.get("user", "")))
    if principal is None:
        failures.failed(address)
        return page(request, "connexion.html", status=422,
                    users=list(DEMO_USERS.values()), embedded=True,
                    pre_csrf=token, errors={"user": "Choisissez un utilisateur de la liste."})
    session = sessions.start(principal)
    response = see_other(HOMES.get(principal.role, "/accueil"))
    sessions.write(request, response, session)
    response.delete_cookie(PRE_COOKIE, path="/connexion")
    request.state.web_session = None  # the middleware must not overwrite the new cookie
    return response


@router.post("/deconnexion")
def sign_out(request: Request, _: Posted) -> Response:
    response = see_other("/connexion?motif=deconnexion")
    sessions = sessions_of(request)
    session = getattr(request.state, "web_session", None)
    if session is not None:
        sessions.end(session)  # a copy of the cookie kept elsewhere opens nothing now
    sessions.clear(response)
    request.state.web_session = None
    request.state.signed_out = True
    return response


@router.get("/accueil")
def elsewhere(request: Request, user: User) -> Response:
    """Analysts and administrators work on aggregates and settings, through the API."""
    return page(request, "accueil.html")
