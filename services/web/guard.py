"""What every page shares: the signed-in professional from the session cookie, the CSRF
check of posted forms, and the French error pages."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.web.render import page
from services.web.sessions import COOKIE, Session, Sessions
from shared.api.http import AuditDep, CatchUpDep, ClockDep, JournalDep, SettingsDep, ViewsDep
from shared.domain.clock import Clock
from shared.domain.errors import ForbiddenError
from shared.domain.principal import Principal
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.audit import AuditLog
from shared.storage.sqldb import Database

PRE_COOKIE = "parcours_pre"


class SignInRequiredError(Exception):
    """No valid session: the page sends the browser to the sign-in page."""


class CsrfError(Exception):
    """A form came without the token of the session: refused, nothing stored."""


@dataclass(frozen=True)
class Parts:
    """What the pages work with, each part from its own dependency."""

    settings: Settings
    journal: Journal
    views: Database
    audit: AuditLog
    clock: Clock
    catch_up: Callable[[], object]


def _parts(settings: SettingsDep, journal: JournalDep, views: ViewsDep, audit: AuditDep,
           clock: ClockDep, catch_up: CatchUpDep) -> Parts:
    return Parts(settings, journal, views, audit, clock, catch_up)


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.web_sessions
    return sessions


def current_session(request: Request) -> Session | None:
    sessions = sessions_of(request)
    session = sessions.decode(request.cookies.get(COOKIE))
    if session is not None:
        request.state.web_session = session
        request.state.csrf = sessions.csrf_token(session)
    return session


def _signed_in(request: Request) -> Principal:
    session = current_session(request)
    if session is None:
        raise SignInRequiredError()
    request.state.principal = session.principal  # who the page's audit records
    return session.principal


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    data = {key: value for key, value in form.items() if isinstance(value, str)}
    session = current_session(request)
    if session is None:
        raise SignInRequiredError()
    if not sessions_of(request).csrf_ok(session, data.pop("csrf", None)):
        raise CsrfError()
    return data


User = Annotated[Principal, Depends(_signed_in)]
Posted = Annotated[dict[str, str], Depends(_posted)]
PartsDep = Annotated[Parts, Depends(_parts)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise ForbiddenError(f"Votre rôle ne permet pas de {what}.")


def not_found_page(request: Request, message: str = "") -> HTMLResponse:
    current_session(request)
    return page(request, "erreur.html", status=404, title="Page introuvable",
                message=message or "Cette page n'existe pas, ou vous n'avez pas accès à ce "
                "dossier.")


def forbidden_page(request: Request, message: str) -> HTMLResponse:
    current_session(request)
    return page(request, "erreur.html", status=403, title="Accès refusé", message=message)


def error_page(request: Request) -> HTMLResponse:
    return page(request, "erreur.html", status=500, title="Erreur interne",
                message="Une erreur inattendue est survenue : rien n'a été perdu de ce qui "
                "était déjà enregistré. Réessayez ; si l'erreur revient, contactez le support.")
