"""What every HTTP entrypoint shares: dependencies, access checks, the error format and the
command answer.

Over 300 lines: the one contract every route shares (the parts, the access checks, the
idempotent answer, the error shape); split, a route would import from four places."""

import logging
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

from fastapi import Depends, FastAPI, Header, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.auth import AuthenticationError, TokenVerifier
from shared.api.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from shared.api.throttle import Failures
from shared.domain import access
from shared.domain.access import PathwayFacts
from shared.domain.clock import Clock, system_clock
from shared.domain.commands import Answer, IdempotentRequest, Meta
from shared.domain.dates import local_day
from shared.domain.errors import (
    ConcurrentChangeError,
    ForbiddenError,
    ImplausibleInputError,
    InProgressError,
    ParcoursError,
    PathwayNotFoundError,
    TooManyFailuresError,
    UnauthenticatedError,
)
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.events import Actor, EventEnvelope
from shared.journal import idempotency
from shared.journal.application import Journal
from shared.runtime.resilience import is_outage
from shared.runtime.settings import Settings
from shared.storage.audit import Access, AuditLog
from shared.storage.sqldb import Database

log = logging.getLogger(__name__)
P = TypeVar("P", bound=BaseModel)




def provide(app: FastAPI, *, settings: Settings, journal: Journal, views: Database,
            verifier: TokenVerifier, audit: AuditLog, clock: Clock = system_clock,
            catch_up: Callable[[], object] = lambda: None) -> None:
    """Hands the parts the composition root built to the routes, each read by its own
    dependency below (``JournalDep``, ``ViewsDep``…). ``catch_up``: in the embedded mode, brings
    the views up to the journal before a read."""
    state = app.state
    state.settings, state.journal, state.views, state.clock = settings, journal, views, clock
    state.verifier, state.audit, state.catch_up = verifier, audit, catch_up


def _part(name: str) -> Callable[[Request], Any]:
    """A dependency that hands out one part ``provide`` put on the application."""
    def part(request: Request) -> Any:
        return getattr(request.app.state, name)
    return part


def _views(request: Request) -> Database:
    request.app.state.catch_up()  # embedded mode: a read follows the writes already made
    views: Database = request.app.state.views
    return views


JournalDep = Annotated[Journal, Depends(_part("journal"))]
SettingsDep = Annotated[Settings, Depends(_part("settings"))]
ClockDep = Annotated[Clock, Depends(_part("clock"))]
CatchUpDep = Annotated[Callable[[], object], Depends(_part("catch_up"))]
ViewsDep = Annotated[Database, Depends(_views)]
VerifierDep = Annotated[TokenVerifier, Depends(_part("verifier"))]
AuditDep = Annotated[AuditLog, Depends(_part("audit"))]


_bearer = HTTPBearer(auto_error=False, description="Jeton d'accès (OAuth2 / OIDC)")


def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    verifier: VerifierDep,
) -> Principal:
    if credentials is None:
        raise UnauthenticatedError(
            "Authentification requise : envoyez un jeton dans l'en-tête "
            "Authorization: Bearer <jeton>.")
    failures: Failures = request.app.state.failures
    address = request.client.host if request.client else None
    refuse_if_throttled(failures, address)
    try:
        principal = verifier.verify(credentials.credentials)
    except AuthenticationError as error:
        failures.failed(address)
        raise UnauthenticatedError(
            "Jeton refusé : reconnectez-vous pour en obtenir un nouveau.", reason=str(error)
        ) from None
    request.state.principal = principal  # for the audit of what the answer shows
    return principal


def refuse_if_throttled(failures: Failures, address: str | None) -> None:
    wait_s = failures.wait_s(address)
    if wait_s > 0:
        raise TooManyFailuresError(
            "Trop de tentatives refusées depuis cette adresse : réessayez dans une minute.",
            retry_after=math.ceil(wait_s))


PrincipalDep = Annotated[Principal, Depends(_principal)]
Authenticated = Depends(_principal)


async def _request_digest(request: Request) -> str | None:
    # Async: the body is read once by the framework and cached; a sync dependency cannot
    # await it. No I/O here (the key's lookup waits on the database, in the thread pool).
    if "idempotency-key" not in request.headers:
        return None
    return idempotency.fingerprint(request.method, request.url.path, request.url.query,
                                   await request.body())


IDEMPOTENCY_KEY_DOC = (
    "Clé d'idempotence choisie par le client (1 à 255 caractères, un UUID par exemple), "
    "une par commande. Renvoyer la même requête avec la même clé (après un délai dépassé, "
    "une réponse 503 ou une connexion coupée) ne l'applique pas deux fois : la réponse est "
    "celle de la première fois (même statut, même version, même corps, en-tête "
    "Idempotent-Replayed: true). La même clé avec une autre requête : 422 "
    "idempotency.key_reused. Clés gardées PARCOURS_IDEMPOTENCY_TTL_DAYS jours (7).")


def _meta(
    request: Request,
    principal: PrincipalDep,
    clock: ClockDep,
    settings: SettingsDep,
    digest: Annotated[str | None, Depends(_request_digest)],
    x_correlation_id: Annotated[UUID | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=idempotency.MAX_KEY_LENGTH,
        description=IDEMPOTENCY_KEY_DOC)] = None,
) -> Meta:
    # The actor of every event is the token's subject, never something the caller declares.
    request_key = None
    if idempotency_key is not None and digest is not None:
        # The key is the caller's own: scoped to the token's subject.
        route = request.scope.get("route")
        request_key = IdempotentRequest(
            scope=principal.id, key=idempotency_key, fingerprint=digest,
            answer=partial(_answer, getattr(route, "status_code", None) or 200))
    return Meta(actor=Actor(id=principal.id, role=principal.role),
                correlation_id=x_correlation_id or uuid4(), now=clock(),
                future_tolerance=timedelta(days=settings.future_date_tolerance_days),
                idempotency=request_key)


def _answer(status_code: int, pathway: Pathway) -> Answer:
    """What a command route answers once its command is applied (``command_result``), kept
    with the key so that the same request sent again gets the same answer."""
    headers = {"ETag": f'"{pathway.version}"'}
    if status_code == 201:
        headers["Location"] = f"/pathways/{pathway.id}"
    body = CommandResult(pathway_id=pathway.id, version=pathway.version,
                         status=pathway.status).model_dump(mode="json")
    return Answer(status_code=status_code, body=body, headers=headers)


def event(build: Callable[[], P]) -> P:
    """Builds an event payload from a request (its ``payload()``); a rule of the payload
    broken by the request (a person outside the public, a birth date after the referral) is
    the caller's 422."""
    try:
        return build()
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None


def _today(clock: ClockDep, settings: SettingsDep) -> date:
    """Today in the territory, the calendar the facts are dated in (not the server's UTC)."""
    return local_day(clock(), settings.zone())


TodayDep = Annotated[date, Depends(_today)]
Rule = Callable[[Principal, PathwayFacts, date], bool]


def load_for_reading(journal: Journal, audit: AuditLog, principal: Principal, pathway_id: UUID,
                     action: str, rule: Rule, today: date, address: str | None) -> Pathway:
    """Loads the pathway for a read of the person's file and records the read in the audit,
    allowed or not. Whoever may not read it is told it does not exist. The JSON routes and
    the web pages share it, so the same rules and the same audit apply to both."""
    outcome, pathway = "not_found", None
    try:
        pathway = journal.pathway(pathway_id)
        facts = PathwayFacts.of(pathway)
        outcome = "allowed" if rule(principal, facts, today) else "refused"
        visible = access.visible_episodes(principal, facts, today)
        if outcome == "allowed" and visible and visible[-1] != facts.episodes[-1]:
            # Another territory follows the person now: the file as it stood at the end of
            # the last episode this reader may see.
            pathway = journal.pathway(pathway_id, version=visible[-1].last_version)
    finally:
        audit.record(Access(
            at=datetime.now(UTC), actor_id=principal.id, actor_role=principal.role,
            territory=principal.territory, action=action, pathway_id=str(pathway_id),
            outcome=outcome, address=address))
    if outcome != "allowed" or pathway is None:
        raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
    return pathway


COORDINATION_ONLY = frozenset({"ReferralReceivedAgain", "RepeatReferralResolved"})
"""Repeat referrals are the commission's business: their traits may be another person's (an
INS typed wrong), so only the coordination reads them in a journal."""


def visible_events(journal: Journal, principal: Principal, pathway_id: UUID,
                   today: date) -> list[EventEnvelope]:
    """The journal of the episodes this professional may read."""
    facts = PathwayFacts.of(journal.pathway(pathway_id))
    ranges = [(e.first_version, e.last_version, access.coordinates(principal, e.territory))
              for e in access.visible_episodes(principal, facts, today)]
    return [event for event in journal.events_of(pathway_id)
            if any(low <= event.stream_version <= high
                   and (coordinated or event.type not in COORDINATION_ONLY)
                   for low, high, coordinated in ranges)]


def reading(action: str, rule: Rule = access.reads_file) -> Callable[..., Pathway]:
    """A dependency that loads the pathway for a read of the person's file (see
    ``load_for_reading``)."""

    def load(pathway_id: UUID, request: Request, principal: PrincipalDep, today: TodayDep,
             journal: JournalDep, audit: AuditDep) -> Pathway:
        # Recorded here with its outcome; the response audit does not record it again.
        request.state.audited = {*getattr(request.state, "audited", ()), str(pathway_id).lower()}
        return load_for_reading(journal, audit, principal, pathway_id, action, rule, today,
                                request.client.host if request.client else None)

    return load


def acting(rule: Rule, what: str) -> Callable[..., None]:
    """A dependency that lets a command through only for those the practice allows."""

    def check(pathway_id: UUID, principal: PrincipalDep, today: TodayDep,
              journal: JournalDep) -> None:
        facts = PathwayFacts.of(journal.pathway(pathway_id))
        if rule(principal, facts, today):
            return
        if not access.reads_file(principal, facts, today):
            raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
        raise ForbiddenError(f"Votre rôle ne permet pas de {what} pour ce parcours.")

    return check


def forbid_unless(allowed: bool, what: str) -> None:
    if not allowed:
        raise ForbiddenError(f"Votre rôle ne permet pas de {what}.")


def scoped_territory(principal: Principal, requested: str | None,
                     analysts: bool = False) -> str | None:
    """The territory a list may cover: a coordinator's own, or any for an analyst when the
    list holds aggregates only."""
    if principal.role == "coordinator":
        if requested and requested != principal.territory:
            raise ForbiddenError("Vous ne voyez que les données de votre territoire.")
        return principal.territory
    if analysts and principal.role == "analyst":
        return requested
    raise ForbiddenError("Votre rôle ne permet pas de consulter ces données.")


Follows = Depends(acting(lambda p, f, d: access.follows(p, f), "modifier ce dossier"))
Coordinates = Depends(acting(lambda p, f, d: access.coordinates(p, f.territory),
                             "prendre cette décision"))


MAX_VERSION = 2**31 - 1
"""The store keeps versions as 32-bit integers: a larger one is a malformed request."""
Revision = Annotated[int, Path(ge=1, le=MAX_VERSION, description="Numéro de révision du PSI")]


def _expected_version(
    if_match: Annotated[str | None, Header(description="Version attendue du parcours")] = None,
) -> int | None:
    if if_match is None:
        return None
    value = if_match.removeprefix("W/").strip('"')
    if not value.isdigit() or int(value) > MAX_VERSION:
        raise RequestValidationError(
            [{"loc": ("header", "if-match"), "msg": "If-Match doit être un numéro de version",
              "type": "value_error"}]
        )
    return int(value)


MetaDep = Annotated[Meta, Depends(_meta)]
ExpectedVersionDep = Annotated[int | None, Depends(_expected_version)]


class CommandResult(BaseModel):
    pathway_id: UUID
    version: int
    status: str


def command_result(pathway: Pathway, response: Response) -> CommandResult:
    response.headers["ETag"] = f'"{pathway.version}"'
    return CommandResult(pathway_id=pathway.id, version=pathway.version, status=pathway.status)


def error_body(code: str, message: str, **details: object) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


_STATUS: tuple[tuple[type[ParcoursError], int], ...] = (
    (PathwayNotFoundError, 404), (TooManyFailuresError, 429), (InProgressError, 429),
    (UnauthenticatedError, 401),
    (ForbiddenError, 403),
    (ImplausibleInputError, 422),
)
MAX_FIELDS_IN_ERROR = 20
RETRY_AFTER_S = 5
_HTTP_CODES = {400: "request.malformed", 401: "auth.required", 403: "access.denied",
               404: "route.not_found", 405: "method.not_allowed", 413: "request.too_large",
               415: "request.unsupported_media_type"}
_HTTP_MESSAGES = {400: "Requête mal formée.", 404: "Adresse inconnue.",
                  405: "Méthode non permise sur cette adresse.",
                  413: "Requête trop volumineuse.",
                  415: "Type de contenu non pris en charge."}


def _unavailable() -> JSONResponse:
    """The database or Kafka is restarting: say so at once, and when to try again, rather
    than a 500 the client cannot tell from a bug."""
    return JSONResponse(
        error_body("service.unavailable",
                   "Service momentanément indisponible : réessayez dans quelques secondes."),
        503, headers={"Retry-After": str(RETRY_AFTER_S)})


class OutageAnswer:
    """Pure ASGI: an outage raised by the application becomes a 503 and one log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            if started or not is_outage(error):
                raise  # a bug, or too late to answer: Starlette logs it with its traceback
            log.warning("%s %s: 503 service.unavailable (%s: %s)", scope.get("method"),
                        scope.get("path"), type(error).__name__, str(error)[:200])
            await _unavailable()(scope, receive, send)


def install_error_handlers(app: FastAPI, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                           failures: Failures | None = None) -> None:
    """Every error in the one documented shape, the ceiling on request bodies, and the count
    of refused credentials per address."""
    app.state.failures = failures or Failures()
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    # Inside Starlette's ServerErrorMiddleware, which logs a traceback for (and re-raises)
    # every error the Exception handler answers: an outage is expected, so it is answered here.
    app.add_middleware(OutageAnswer)

    @app.exception_handler(StarletteHTTPException)
    def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, f"http.{error.status_code}")
        message = _HTTP_MESSAGES.get(error.status_code, "Requête refusée.")
        return JSONResponse(error_body(code, message), error.status_code,
                            headers=dict(error.headers or {}))

    @app.exception_handler(ParcoursError)
    def _domain(_: Request, error: ParcoursError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(error, kind)), 409)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        if status == 429:
            headers["Retry-After"] = str(error.details.get("retry_after", 60))
        if isinstance(error, ConcurrentChangeError) and error.details.get("current_version"):
            headers["ETag"] = f'"{error.details["current_version"]}"'
        return JSONResponse(error_body(error.code, error.message, **error.details), status,
                            headers=headers)

    @app.exception_handler(idempotency.AlreadyAppliedError)
    def _replayed(_: Request, done: idempotency.AlreadyAppliedError) -> JSONResponse:
        # Not an error: the command was applied the first time; this is its answer.
        answer = done.record.answer
        return JSONResponse(dict(answer.body), answer.status_code,
                            headers={**answer.headers, "Idempotent-Replayed": "true"})

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        found = error.errors()
        # At most 20, each field name cut short: an answer never grows with the attack.
        fields = [
            {"field": ".".join(str(part) for part in e["loc"])[:200], "message": e["msg"][:300]}
            for e in found[:MAX_FIELDS_IN_ERROR]
        ]
        return JSONResponse(
            error_body("request.invalid", "Requête invalide : corrigez les champs indiqués.",
                       fields=fields, count=len(found)),
            422,
        )

    @app.exception_handler(Exception)
    def _unexpected(_: Request, error: Exception) -> JSONResponse:
        if is_outage(error):  # only if raised outside OutageAnswer (another middleware)
            return _unavailable()
        # Never a stack trace to a client; the log keeps it.
        return JSONResponse(
            error_body("server.error", "Erreur interne : réessayez, puis contactez le support."),
            500,
        )
