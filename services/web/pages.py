"""The pages: one route per screen and one per form. Reads go through ``reads``, every
command through ``actions``; a form's mistakes come back next to their fields (422), a rule of
the practice as a banner (409)."""

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from parcours import devauth
from services.notifications import sse
from services.web import actions, charts, forms, reads
from services.web.render import page
from services.web.sessions import Session, Sessions
from shared import access
from shared.auth import Principal
from shared.http import ForbiddenError, Platform
from shared.pathway.errors import PathwayError, PathwayNotFoundError
from shared.pathway.plans import diff

router = APIRouter(include_in_schema=False)
PRE_COOKIE = "parcours_pre"


class SignInRequiredError(Exception):
    """No valid session: the page sends the browser to the sign-in page."""


class CsrfError(Exception):
    """A form came without the token of the session: refused, nothing stored."""


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.web_sessions
    return sessions


def current_session(request: Request) -> Session | None:
    from services.web.sessions import COOKIE

    sessions = _sessions(request)
    session = sessions.decode(request.cookies.get(COOKIE))
    if session is not None:
        request.state.web_session = session
        request.state.csrf = sessions.csrf_token(session)
    return session


def _signed_in(request: Request) -> Principal:
    session = current_session(request)
    if session is None:
        raise SignInRequiredError()
    return session.principal


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    data = {key: value for key, value in form.items() if isinstance(value, str)}
    session = current_session(request)
    if session is None:
        raise SignInRequiredError()
    if not _sessions(request).csrf_ok(session, data.pop("csrf", None)):
        raise CsrfError()
    return data


User = Annotated[Principal, Depends(_signed_in)]
Posted = Annotated[dict[str, str], Depends(_posted)]
PlatformDep = Annotated[Platform, Depends(_platform)]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _require(allowed: bool, what: str) -> None:
    if not allowed:
        raise ForbiddenError(f"Votre rôle ne permet pas de {what}.")


# -- signing in and out -----------------------------------------------------------------------

HOMES = {"case_manager": "/file-active", "coordinator": "/coordination",
         "referrer": "/orientations", "analyst": "/accueil", "administrator": "/accueil"}


@router.get("/")
def home(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return _see_other("/connexion")
    return _see_other(HOMES.get(session.principal.role, "/accueil"))


@router.get("/connexion")
def sign_in_form(request: Request, platform: PlatformDep) -> Response:
    import secrets

    nonce = secrets.token_urlsafe(16)
    embedded = platform.settings.dev_key_path() is not None
    response = page(request, "connexion.html", users=list(devauth.DEMO_USERS.values()),
                    embedded=embedded, pre_csrf=_sessions(request).csrf_token(
                        Session(nonce, Principal("", "", "referrer", None), 0)),
                    reason=request.query_params.get("motif"))
    response.set_cookie(PRE_COOKIE, nonce, httponly=True, samesite="strict",
                        secure=request.url.hostname not in ("127.0.0.1", "localhost"),
                        max_age=900, path="/connexion")
    return response


@router.post("/connexion")
async def sign_in(request: Request) -> Response:
    platform = _platform(request)
    form = await request.form()
    nonce = request.cookies.get(PRE_COOKIE, "")
    sessions = _sessions(request)
    token = form.get("csrf")
    if not nonce or not sessions.csrf_ok(
            Session(nonce, Principal("", "", "referrer", None), 0),
            token if isinstance(token, str) else None):
        raise CsrfError()
    if platform.settings.dev_key_path() is None:
        raise ForbiddenError("La connexion passe par le fournisseur d'identité.")
    principal = devauth.DEMO_USERS.get(str(form.get("user", "")))
    if principal is None:
        return page(request, "connexion.html", status=422,
                    users=list(devauth.DEMO_USERS.values()), embedded=True,
                    pre_csrf=token, errors={"user": "Choisissez un utilisateur de la liste."})
    session = sessions.start(principal)
    response = _see_other(HOMES.get(principal.role, "/accueil"))
    sessions.write(request, response, session)
    response.delete_cookie(PRE_COOKIE, path="/connexion")
    request.state.web_session = None  # the middleware must not overwrite the new cookie
    return response


@router.post("/deconnexion")
def sign_out(request: Request, _: Posted) -> Response:
    response = _see_other("/connexion?motif=deconnexion")
    _sessions(request).clear(response)
    request.state.web_session = None
    request.state.signed_out = True
    return response


@router.get("/accueil")
def elsewhere(request: Request, user: User) -> Response:
    """Analysts and administrators work on aggregates and settings, through the API."""
    return page(request, "accueil.html")


# -- Ma file active -----------------------------------------------------------------------------

def _plain(text: str) -> str:
    """Sorting key of a name: accents do not move ÉBAUCHE after ZÉRO."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "nom": lambda p: _plain(p["person_name"]),
    "evaluation": lambda p: p["next_evaluation_due"] or "9999",
    "alertes": lambda p: -int(p["open_alerts"]),
    "contact": lambda p: p["last_contact_on"] or "",
}


@router.get("/file-active")
def caseload(request: Request, user: User, platform: PlatformDep,
             tri: str = "nom", filtre: str = "") -> Response:
    _require(user.role == "case_manager", "consulter une file active de gestionnaire")
    persons = reads.caseload_of(platform, user.id)
    if filtre == "hopital":
        persons = [p for p in persons if p["location"] == "hospital"]
    elif filtre == "retard":
        persons = [p for p in persons if p["evaluation_overdue"]]
    elif filtre == "alertes":
        persons = [p for p in persons if int(p["open_alerts"]) > 0]
    elif filtre == "psi":
        persons = [p for p in persons if int(p["plan_revision"]) and not p["plan_validated"]]
    persons.sort(key=SORTS.get(tri, SORTS["nom"]))
    capacity, free = reads.capacity_of(platform, user)
    ages = {p["pathway_id"]: platform.journal.pathway(UUID(p["pathway_id"])).person
            for p in persons}
    return page(request, "file_active.html", persons=persons, capacity=capacity, free=free,
                tri=tri, filtre=filtre, today=reads.today(platform), people=ages)


# -- Dossier ------------------------------------------------------------------------------------

TABS = {"journal": "Journal", "evaluations": "Évaluations", "psi": "PSI",
        "cercle": "Cercle de soins", "sejours": "Séjours", "notes": "Notes",
        "alertes": "Alertes", "saisir": "Saisir"}


def _dossier(request: Request, user: Principal, platform: Platform, pathway_id: UUID,
             tab: str, as_of: datetime | None = None, status: int = 200,
             **context: Any) -> Response:
    current = reads.file(platform, user, pathway_id, f"web:{tab}", _address(request))
    try:
        pathway = platform.journal.pathway_as_of(pathway_id, as_of) if as_of else current
    except PathwayNotFoundError as before:  # the file did not exist yet on that date
        return _dossier(request, user, platform, pathway_id, tab, None, status,
                        notice=f"{before.message} Voici le dossier aujourd'hui.", **context)
    journal = [e for e in reads.journal(platform, pathway_id)
               if as_of is None or e.recorded_at <= as_of]
    today = as_of.date() if as_of else reads.today(platform)
    evaluations = [e for e in journal if e.type == "Evaluated"]
    gp = pathway.attending_gp(today)
    plans = pathway.follow_up.plans
    revision = pathway.plan_revision
    plan_diff = diff(plans[revision - 1], plans[revision]) \
        if revision > 1 and revision - 1 in plans else None
    return page(
        request, "dossier.html", status=status, pathway=pathway, journal=journal,
        tab=tab if tab in TABS else "journal", tabs=TABS, today=today, as_of=as_of,
        gp=gp, evaluations=evaluations, chart=charts.scales(evaluations),
        plan=plans.get(revision), plan_diff=plan_diff,
        validated=pathway.follow_up.validations.get(revision),
        may_act=access.follows(user, access.PathwayFacts.of(current)) and as_of is None,
        coordinates=access.coordinates(user, current.territory) and as_of is None,
        managers=reads.managers_of(platform, current.territory),
        stays=[e for e in journal if e.type in ("Hospitalised", "StayTransferred",
                                                 "Discharged", "DischargeLetterReceived")],
        notes=[e for e in journal if e.type == "FollowUpNoted"],
        alerts=list(pathway.alerts.values()), pathway_id=pathway_id,
        manager_name=reads.manager_name(platform, pathway.territory, pathway.case_manager_id),
        done=request.query_params.get("fait"), **context)


@router.get("/dossiers/{pathway_id}")
def dossier(request: Request, pathway_id: UUID, user: User, platform: PlatformDep,
            onglet: str = "journal",
            au: Annotated[str | None, Query(description="Date du dossier")] = None) -> Response:
    as_of = None
    if au:
        try:
            as_of = datetime.fromisoformat(au).replace(hour=23, minute=59, second=59,
                                                       tzinfo=forms.PARIS)
        except ValueError:
            as_of = None
    reads.fresh(platform)
    return _dossier(request, user, platform, pathway_id, onglet, as_of)


FORM_TITLES = {
    "evaluation": "Évaluation enregistrée.", "psi": "Nouvelle révision du PSI enregistrée.",
    "cercle": "Intervenant ajouté au cercle de soins.", "depart": "Départ enregistré.",
    "hospitalisation": "Hospitalisation enregistrée.", "transfert-sejour": "Transfert enregistré.",
    "sortie": "Sortie enregistrée.", "lettre": "Lettre de liaison enregistrée.",
    "note": "Note enregistrée.", "dysfonctionnement": "Dysfonctionnement signalé.",
    "cloture": "Dossier clos.", "transfert": "Dossier transféré.",
}


@router.post("/dossiers/{pathway_id}/{command}")
def command(request: Request, pathway_id: UUID, command: str, user: User,
            platform: PlatformDep, form: Posted) -> Response:
    run = actions.COMMANDS.get(command)
    if run is None:
        raise PathwayNotFoundError("Formulaire inconnu.")
    back = "saisir"
    try:
        run(platform, user, pathway_id, form)
    except forms.FormError as mistakes:
        return _dossier(request, user, platform, pathway_id, back, status=422,
                        errors=mistakes.errors, errors_for=command, values=form)
    except (PathwayNotFoundError, ForbiddenError):
        raise
    except PathwayError as rule:
        return _dossier(request, user, platform, pathway_id, back, status=409,
                        banner=rule.message, errors_for=command, values=form)
    return _see_other(f"/dossiers/{pathway_id}?onglet={back}&fait={command}")


# -- Alertes ------------------------------------------------------------------------------------

@router.get("/alertes")
def alerts(request: Request, user: User, platform: PlatformDep, regle: str = "",
           dossier: str = "", etat: str = "") -> Response:
    _require(user.role not in ("analyst", "administrator"), "consulter les alertes")
    found = [a for a in reads.alerts_for(platform, user, rule=regle or None,
                                         pathway_id=dossier or None)
             if a["state"] != "resolved" or etat == "toutes"]
    persons = reads.names_of(platform, {a["pathway_id"] for a in
                                        reads.alerts_for(platform, user, pathway_id=None)})
    return page(request, "alertes.html", alerts=found, regle=regle, dossier=dossier,
                etat=etat, persons=persons, done=request.query_params.get("fait"))


@router.get("/alertes/flux")
async def alert_stream(request: Request, user: User) -> StreamingResponse:
    """The signed-in professional's alerts as server-sent events (the session, no token)."""
    service = request.app.state.notifications
    settings = service.settings
    events = sse.stream(service.db, service.hub, user.id,
                        sse.parse_last_event_id(request.headers.get("last-event-id")),
                        settings.sse_keepalive_s, settings.sse_poll_s)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/alertes/{alert_id}/{step}")
def alert_step(request: Request, alert_id: UUID, step: str, user: User,
               platform: PlatformDep, form: Posted) -> Response:
    found = reads.alert(platform, user, alert_id)
    pathway_id = UUID(found["pathway_id"])
    run = {"prise-en-compte": actions.acknowledge_alert,
           "resolution": actions.resolve_alert}.get(step)
    if run is None:
        raise PathwayNotFoundError("Action inconnue.")
    try:
        run(platform, user, pathway_id, alert_id, form)
    except forms.FormError as mistakes:
        return page(request, "alertes.html", status=422,
                    alerts=reads.alerts_for(platform, user), regle="", dossier="", etat="",
                    persons=[], errors=mistakes.errors, errors_for=str(alert_id))
    except (PathwayNotFoundError, ForbiddenError):
        raise
    except PathwayError as rule:
        return page(request, "alertes.html", status=409,
                    alerts=reads.alerts_for(platform, user), regle="", dossier="", etat="",
                    persons=[], banner=rule.message)
    return _see_other(f"/alertes?fait={step}")


# -- Orientation ------------------------------------------------------------------------------

@router.get("/orientation")
def referral_form(request: Request, user: User) -> Response:
    _require(user.role in ("referrer", "case_manager", "coordinator"), "orienter une personne")
    return page(request, "orientation.html", values={}, errors={}, errors_for="orientation",
                today=datetime.now(UTC).date(), territory=user.territory or "")


@router.post("/orientation")
def refer(request: Request, user: User, platform: PlatformDep, form: Posted) -> Response:
    try:
        actions.refer(platform, user, form)
    except forms.FormError as mistakes:
        return page(request, "orientation.html", status=422, values=form,
                    errors=mistakes.errors, errors_for="orientation",
                    today=reads.today(platform), territory=user.territory or "")
    except ForbiddenError:
        raise
    except PathwayError as rule:
        return page(request, "orientation.html", status=409, values=form, errors={},
                    errors_for="orientation", banner=rule.message, today=reads.today(platform),
                    territory=user.territory or "")
    return _see_other("/orientations?fait=orientation")


@router.get("/orientations")
def my_referrals(request: Request, user: User, platform: PlatformDep) -> Response:
    rows = []
    for pathway_id in reads.pathways_where(platform, user.id, "referrer"):
        pathway = reads.file(platform, user, pathway_id, "web:referral", _address(request),
                             access.reads_decision)
        refusal = next((e.payload() for e in reversed(reads.journal(platform, pathway_id))
                        if e.type == "AdmissionRefused"), None) \
            if pathway.status == "refused" else None
        rows.append({"pathway": pathway, "episode": pathway.episodes[-1], "refusal": refusal})
    return page(request, "orientations.html", rows=rows, done=request.query_params.get("fait"))


# -- Plans à valider ----------------------------------------------------------------------------

def _plans_awaiting(request: Request, user: Principal, platform: Platform) -> list[Any]:
    awaiting = []
    for pathway_id in reads.pathways_where(platform, user.id, "attending_gp"):
        try:
            pathway = reads.file(platform, user, pathway_id, "web:plan", _address(request),
                                 access.validates_plan)
        except PathwayNotFoundError:
            continue  # no longer their patient
        revision, plans = pathway.plan_revision, pathway.follow_up.plans
        if revision and revision not in pathway.follow_up.validations \
                and pathway.status == "active":
            before = plans.get(revision - 1)
            awaiting.append({"pathway": pathway, "plan": plans[revision],
                             "diff": diff(before, plans[revision]) if before else None})
    return awaiting


@router.get("/plans-a-valider")
def plans(request: Request, user: User, platform: PlatformDep) -> Response:
    return page(request, "plans.html", awaiting=_plans_awaiting(request, user, platform),
                today=reads.today(platform), done=request.query_params.get("fait"))


@router.post("/plans-a-valider/{pathway_id}/{revision}")
def validate(request: Request, pathway_id: UUID, revision: int, user: User,
             platform: PlatformDep, form: Posted) -> Response:
    try:
        actions.validate_plan(platform, user, pathway_id, revision, form)
    except forms.FormError as mistakes:
        return page(request, "plans.html", status=422,
                    awaiting=_plans_awaiting(request, user, platform),
                    today=reads.today(platform), errors=mistakes.errors,
                    errors_for=f"{pathway_id}-{revision}")
    except (PathwayNotFoundError, ForbiddenError):
        raise
    except PathwayError as rule:
        return page(request, "plans.html", status=409,
                    awaiting=_plans_awaiting(request, user, platform),
                    today=reads.today(platform), banner=rule.message)
    return _see_other("/plans-a-valider?fait=validation")


# -- Coordination -----------------------------------------------------------------------------

def _coordination(request: Request, user: Principal, platform: Platform, status: int = 200,
                  **context: Any) -> Response:
    _require(user.role == "coordinator" and bool(user.territory), "coordonner ce territoire")
    assert user.territory
    board = reads.coordination(platform, user.territory)
    referrals = []
    for row in board["awaiting"]:
        pathway_id = UUID(row["pathway_id"])
        referral = next((e.payload() for e in reversed(reads.journal(platform, pathway_id))
                         if e.type == "Referred"), None)
        referrals.append({**row, "referral": referral})
    history = None
    dossier = request.query_params.get("historique", "")
    if dossier:
        try:
            history = reads.access_history(platform, UUID(dossier))
        except ValueError:
            history = []
    return page(request, "coordination.html", status=status, board=board, referrals=referrals,
                persons=reads.persons_of_territory(platform, user.territory),
                today=reads.today(platform), history=history, historique=dossier,
                load_chart=charts.loads(board["managers"]),
                manager_choices=[(mg["id"], f"{mg['name']} ({mg['free']} place(s) libre(s))")
                                 for mg in board["managers"]],
                dysfunction_chart=charts.categories(board["dysfunctions"]),
                done=request.query_params.get("fait"), **context)


@router.get("/coordination")
def coordination(request: Request, user: User, platform: PlatformDep) -> Response:
    return _coordination(request, user, platform)


@router.post("/coordination/{pathway_id}/{decision}")
def decide(request: Request, pathway_id: UUID, decision: str, user: User,
           platform: PlatformDep, form: Posted) -> Response:
    run = {"admission": actions.admit, "refus": actions.refuse}.get(decision)
    if run is None:
        raise PathwayNotFoundError("Décision inconnue.")
    try:
        run(platform, user, pathway_id, form)
    except forms.FormError as mistakes:
        return _coordination(request, user, platform, status=422, errors=mistakes.errors,
                             errors_for=f"{decision}-{pathway_id}", values=form)
    except (PathwayNotFoundError, ForbiddenError):
        raise
    except PathwayError as rule:
        return _coordination(request, user, platform, status=409, banner=rule.message)
    return _see_other(f"/coordination?fait={decision}")


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
