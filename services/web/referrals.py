"""Orientation (the referral form), Mes orientations, and the GP's Plans à valider."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.web import actions, forms, reads
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
from shared.domain.errors import PathwayError, PathwayNotFoundError
from shared.domain.plans import diff
from shared.domain.principal import Principal
from shared.journal.idempotency import AlreadyAppliedError

router = APIRouter(include_in_schema=False)


# -- Orientation ------------------------------------------------------------------------------

@router.get("/orientation")
def referral_form(request: Request, user: User, parts: PartsDep) -> Response:
    require(user.role in ("referrer", "case_manager", "coordinator"), "orienter une personne")
    return page(request, "orientation.html", values={}, errors={}, errors_for="orientation",
                today=reads.today(parts), territory=user.territory or "")


@router.post("/orientation")
def refer(request: Request, user: User, parts: PartsDep, form: Posted) -> Response:
    try:
        actions.refer(parts, user, form)
    except AlreadyAppliedError:
        pass  # the same form sent again: done the first time, answered as then
    except forms.FormError as mistakes:
        return page(request, "orientation.html", status=422, values=form,
                    errors=mistakes.errors, errors_for="orientation",
                    today=reads.today(parts), territory=user.territory or "")
    except PathwayError as rule:
        return page(request, "orientation.html", status=409, values=form, errors={},
                    errors_for="orientation", banner=rule.message, today=reads.today(parts),
                    territory=user.territory or "")
    return see_other("/orientations?fait=orientation")


@router.get("/orientations")
def my_referrals(request: Request, user: User, parts: PartsDep) -> Response:
    """Each referral as its sender sent it, with where it stands: nothing of the person's
    file, nor of the episodes someone else referred (finding 9)."""
    rows = []
    for row, receipt in reads.referrals_sent(parts, user, request):
        refusal = reads.refusal_of(parts, UUID(row["pathway_id"]), receipt.episode) \
            if receipt.status == "refused" else None
        rows.append({"sent": row, "receipt": receipt, "refusal": refusal})
    return page(request, "orientations.html", rows=rows, done=request.query_params.get("fait"))


# -- Plans à valider ----------------------------------------------------------------------------

def _plans_awaiting(request: Request, user: Principal, parts: Parts) -> list[Any]:
    awaiting = []
    for pathway_id in reads.pathways_where(parts, user.id, "attending_gp"):
        try:
            pathway = reads.file(parts, user, pathway_id, "web:plan", request,
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
def plans(request: Request, user: User, parts: PartsDep) -> Response:
    return page(request, "plans.html", awaiting=_plans_awaiting(request, user, parts),
                today=reads.today(parts), done=request.query_params.get("fait"))


@router.post("/plans-a-valider/{pathway_id}/{revision}")
def validate(request: Request, pathway_id: UUID, revision: int, user: User,
             parts: PartsDep, form: Posted) -> Response:
    try:
        actions.validate_plan(parts, user, pathway_id, revision, form)
    except AlreadyAppliedError:
        pass  # the same form sent again: done the first time, answered as then
    except forms.FormError as mistakes:
        return page(request, "plans.html", status=422,
                    awaiting=_plans_awaiting(request, user, parts),
                    today=reads.today(parts), errors=mistakes.errors,
                    errors_for=f"{pathway_id}-{revision}")
    except PathwayNotFoundError:
        raise
    except PathwayError as rule:
        return page(request, "plans.html", status=409,
                    awaiting=_plans_awaiting(request, user, parts),
                    today=reads.today(parts), banner=rule.message)
    return see_other("/plans-a-valider?fait=validation")
