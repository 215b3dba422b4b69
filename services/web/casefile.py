"""Ma file active, the Dossier of a person, and the forms of the case file."""

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.web import actions, charts, forms, reads
from services.web.guard import (
    Parts,
    PartsDep,
    Posted,
    User,
    require,
    see_other,
)
from services.web.render import page
from shared.domain import access
from shared.domain.commands import Meta
from shared.domain.errors import PathwayError, PathwayNotFoundError, RuleBrokenError
from shared.domain.plans import diff
from shared.domain.principal import Principal
from shared.events import Actor
from shared.journal.idempotency import AlreadyAppliedError

router = APIRouter(include_in_schema=False)


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
def caseload(request: Request, user: User, parts: PartsDep,
             tri: str = "nom", filtre: str = "") -> Response:
    require(user.role == "case_manager", "consulter une file active de gestionnaire")
    persons = reads.caseload_of(parts, user.id)
    if filtre == "hopital":
        persons = [p for p in persons if p["location"] == "hospital"]
    elif filtre == "retard":
        persons = [p for p in persons if p["evaluation_overdue"]]
    elif filtre == "alertes":
        persons = [p for p in persons if int(p["open_alerts"]) > 0]
    elif filtre == "psi":
        persons = [p for p in persons if int(p["plan_revision"]) and not p["plan_validated"]]
    persons.sort(key=SORTS.get(tri, SORTS["nom"]))
    capacity, free = reads.capacity_of(parts, user)
    ages = {p["pathway_id"]: parts.journal.pathway(UUID(p["pathway_id"])).person
            for p in persons}
    return page(request, "file_active.html", persons=persons, capacity=capacity, free=free,
                tri=tri, filtre=filtre, today=reads.today(parts), people=ages)


# -- Dossier ------------------------------------------------------------------------------------

TABS = {"journal": "Journal", "evaluations": "Évaluations", "psi": "PSI",
        "cercle": "Cercle de soins", "sejours": "Séjours", "notes": "Notes",
        "alertes": "Alertes", "saisir": "Saisir"}


def _dossier(request: Request, user: Principal, parts: Parts, pathway_id: UUID,
             tab: str, as_of: datetime | None = None, status: int = 200,
             **context: Any) -> Response:
    current = reads.file(parts, user, pathway_id, f"web:{tab}", request)
    try:
        pathway = parts.journal.pathway_as_of(pathway_id, as_of) if as_of else current
    except PathwayNotFoundError as before:  # the file did not exist yet on that date
        return _dossier(request, user, parts, pathway_id, tab, None, status,
                        notice=f"{before.message} Voici le dossier aujourd'hui.", **context)
    journal = [e for e in reads.file_journal(parts, user, pathway_id)
               if as_of is None or e.recorded_at <= as_of]
    today = as_of.date() if as_of else reads.today(parts)
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
        managers=reads.managers_of(parts, current.territory),
        stays=[e for e in journal if e.type in (
            "Hospitalised", "StayTransferred", "Discharged", "DischargeLetterReceived",
            "AdmissionCancelled", "TransferCancelled", "DischargeCancelled",
            "MovementCorrected")],
        notes=[e for e in journal if e.type == "FollowUpNoted"],
        alerts=list(pathway.alerts.values()), pathway_id=pathway_id,
        vigilance=current.open_vigilance(),
        manager_name=reads.manager_name(parts, pathway.territory, pathway.case_manager_id),
        done=request.query_params.get("fait"), **context)


@router.get("/dossiers/{pathway_id}")
def dossier(request: Request, pathway_id: UUID, user: User, parts: PartsDep,
            onglet: str = "journal",
            au: Annotated[str | None, Query(description="Date du dossier")] = None) -> Response:
    as_of = None
    if au:
        try:
            as_of = datetime.fromisoformat(au).replace(hour=23, minute=59, second=59,
                                                       tzinfo=forms.PARIS)
        except ValueError:
            as_of = None
    reads.fresh(parts)
    return _dossier(request, user, parts, pathway_id, onglet, as_of)


FORM_TITLES = {
    "evaluation": "Évaluation enregistrée.", "psi": "Nouvelle révision du PSI enregistrée.",
    "cercle": "Intervenant ajouté au cercle de soins.", "depart": "Départ enregistré.",
    "hospitalisation": "Hospitalisation enregistrée.", "transfert-sejour": "Transfert enregistré.",
    "sortie": "Sortie enregistrée.", "lettre": "Lettre de liaison enregistrée.",
    "note": "Note enregistrée.", "dysfonctionnement": "Dysfonctionnement signalé.",
    "cloture": "Dossier clos.", "transfert": "Dossier transféré.",
    "validation-recue": "Validation du PSI enregistrée.",
}


@router.post("/dossiers/{pathway_id}/vigilance")
def resolve_vigilance(request: Request, pathway_id: UUID, user: User, parts: PartsDep,
                      form: Posted) -> Response:
    """Marks an identity-vigilance incident resolved: the case manager or the coordinator,
    once it is checked with the hospital; the journal records who."""
    facts = access.PathwayFacts.of(parts.journal.pathway(pathway_id))
    if not access.reads_file(user, facts, reads.today(parts)):
        raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
    require(access.follows(user, facts), "traiter ce signalement pour ce dossier")
    try:
        vigilance_id = UUID(str(form.get("vigilance_id", "")))
    except ValueError:
        raise PathwayNotFoundError("Signalement de vigilance identité inconnu.") from None
    meta = Meta(actor=Actor(id=user.id, role=user.role), correlation_id=uuid4(),
                now=parts.clock())
    try:
        parts.journal.resolve_identity_vigilance(pathway_id, vigilance_id,
                                                 str(form.get("comment", ""))[:5000], meta)
    except RuleBrokenError as rule:
        if rule.code != "vigilance.already_resolved":  # sent twice: done the first time
            return _dossier(request, user, parts, pathway_id, "journal", status=409,
                            banner=rule.message)
    return see_other(f"/dossiers/{pathway_id}?onglet=journal&fait=vigilance")


@router.post("/dossiers/{pathway_id}/{command}")
def command(request: Request, pathway_id: UUID, command: str, user: User,
            parts: PartsDep, form: Posted) -> Response:
    run = actions.COMMANDS.get(command)
    if run is None:
        raise PathwayNotFoundError("Formulaire inconnu.")
    back = "saisir"
    try:
        run(parts, user, pathway_id, form)
    except AlreadyAppliedError:
        pass  # the same form sent again: done the first time, answered as then
    except forms.FormError as mistakes:
        return _dossier(request, user, parts, pathway_id, back, status=422,
                        errors=mistakes.errors, errors_for=command, values=form)
    except PathwayNotFoundError:
        raise
    except PathwayError as rule:
        return _dossier(request, user, parts, pathway_id, back, status=409,
                        banner=rule.message, errors_for=command, values=form)
    return see_other(f"/dossiers/{pathway_id}?onglet={back}&fait={command}")
