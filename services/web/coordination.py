"""Coordination: the admission commission, the waiting list, loads, dysfunctions and the
access history."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
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
from shared.domain.errors import PathwayError, PathwayNotFoundError
from shared.domain.principal import Principal
from shared.journal.idempotency import AlreadyAppliedError

router = APIRouter(include_in_schema=False)


def _coordination(request: Request, user: Principal, parts: Parts, status: int = 200,
                  **context: Any) -> Response:
    require(user.role == "coordinator" and bool(user.territory), "coordonner ce territoire")
    assert user.territory
    board = reads.coordination(parts, user.territory)
    referrals = []
    for row in board["awaiting"]:
        pathway_id = UUID(row["pathway_id"])
        referral = next((e.payload() for e in reversed(reads.journal(parts, pathway_id))
                         if e.type == "Referred"), None)
        referrals.append({**row, "referral": referral})
    repeats = []
    for row in board["repeats"]:  # the view may lag: the journal says what is still open
        pathway = parts.journal.pathway(UUID(row["pathway_id"]))
        repeat = pathway.repeat_referrals.get(UUID(row["referral_id"]))
        if repeat is not None and repeat.outcome is None:
            repeats.append({**row, "repeat": repeat, "person": pathway.person})
    history = None
    dossier = request.query_params.get("historique", "")
    if dossier:
        try:
            history = reads.access_history(parts, UUID(dossier))
        except ValueError:
            history = []
    return page(request, "coordination.html", status=status, board=board, referrals=referrals,
                repeats=repeats,
                persons=reads.persons_of_territory(parts, user.territory),
                today=reads.today(parts), history=history, historique=dossier,
                load_chart=charts.loads(board["managers"]),
                manager_choices=[(mg["id"], f"{mg['name']} ({mg['free']} place(s) libre(s))")
                                 for mg in board["managers"]],
                dysfunction_chart=charts.categories(board["dysfunctions"]),
                done=request.query_params.get("fait"), **context)


@router.get("/coordination")
def coordination(request: Request, user: User, parts: PartsDep) -> Response:
    return _coordination(request, user, parts)


@router.post("/coordination/{pathway_id}/orientations-repetees/{referral_id}")
def resolve_repeat(request: Request, pathway_id: UUID, referral_id: UUID, user: User,
                   parts: PartsDep, form: Posted) -> Response:
    """A repeat referral joined to the pathway in progress, or declined."""
    try:
        actions.resolve_repeat(parts, user, pathway_id, referral_id, form)
    except AlreadyAppliedError:
        pass  # the same form sent again: done the first time, answered as then
    except forms.FormError as mistakes:
        return _coordination(request, user, parts, status=422, errors=mistakes.errors,
                             errors_for=f"repetee-{referral_id}", values=form)
    except PathwayNotFoundError:
        raise
    except PathwayError as rule:
        return _coordination(request, user, parts, status=409, banner=rule.message)
    outcome = "rattachement" if form.get("outcome") == "joined" else "declin"
    return see_other(f"/coordination?fait={outcome}")


@router.post("/coordination/{pathway_id}/{decision}")
def decide(request: Request, pathway_id: UUID, decision: str, user: User,
           parts: PartsDep, form: Posted) -> Response:
    run = {"admission": actions.admit, "refus": actions.refuse}.get(decision)
    if run is None:
        raise PathwayNotFoundError("Décision inconnue.")
    try:
        run(parts, user, pathway_id, form)
    except AlreadyAppliedError:
        pass  # the same form sent again: done the first time, answered as then
    except forms.FormError as mistakes:
        return _coordination(request, user, parts, status=422, errors=mistakes.errors,
                             errors_for=f"{decision}-{pathway_id}", values=form)
    except PathwayNotFoundError:
        raise
    except PathwayError as rule:
        return _coordination(request, user, parts, status=409, banner=rule.message)
    return see_other(f"/coordination?fait={decision}")
