"""Reads of a pathway: now, at a date, at a version; its journal, episodes and plan."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel

from services.casefile.routes.params import PathwayId, pathway_router
from shared import events as ev
from shared.api.http import (
    MAX_VERSION,
    AuditDep,
    JournalDep,
    PrincipalDep,
    Revision,
    SettingsDep,
    TodayDep,
    reading,
    visible_events,
)
from shared.domain import access
from shared.domain.access import PathwayFacts
from shared.domain.errors import RuleBrokenError
from shared.domain.pathway import Pathway
from shared.domain.plans import PlanDiff, diff
from shared.events import EventEnvelope
from shared.events.values import CareCircleMember, Person

router = pathway_router()


def _file(action: str) -> Any:
    return Depends(reading(action))


Coordinator = Depends(reading("access-log", lambda p, f, d: p.role == "coordinator"
                             and access.reads_file(p, f, d)))


class Member(BaseModel):
    member: CareCircleMember
    joined_on: date
    left_on: date | None


class Stay(BaseModel):
    establishment: str
    ward: str
    admitted_at: datetime


class Episode(BaseModel):
    number: int
    referred_on: date
    referrer: str
    referrer_id: str
    decision: str | None
    decided_on: date | None
    closed_on: date | None
    closure_reason: str | None


class AlertView(BaseModel):
    alert: ev.AlertRaised
    state: str
    acknowledged_by: str | None
    resolved_by: str | None


class PathwayView(BaseModel):
    pathway_id: UUID
    version: int
    status: str
    territory: str
    episode: int
    person: Person | None
    admitted_on: date | None
    case_manager_id: str | None
    waiting_rank: int | None
    open_stay: Stay | None
    care_circle: list[Member]
    plan_revision: int
    plan_validated: bool
    last_evaluation: ev.Evaluated | None
    next_evaluation_due: date | None
    last_contact_on: date | None
    open_alerts: int
    criteria_not_met: list[str]
    criteria_override: str | None


@router.get("")
def read(pathway_id: PathwayId, journal: JournalDep, settings: SettingsDep,
         response: Response, current: Annotated[Pathway, _file("pathway")], today: TodayDep,
         version: Annotated[int | None, Query(ge=1, le=MAX_VERSION,
                                              description="Version du journal")] = None,
         as_of: Annotated[AwareDatetime | None, Query(
             description="Le dossier tel qu'il était enregistré à cette date")] = None,
         ) -> PathwayView:
    """The pathway's state now, at a past date (as_of) or at a stream version."""
    if as_of is not None and version is not None:
        raise RequestValidationError([{
            "loc": ("query", "as_of"), "type": "value_error",
            "msg": "choisissez soit une version (version), soit une date (as_of), pas les deux"}])
    if as_of is not None:
        pathway = journal.pathway_as_of(pathway_id, as_of)
    elif version is not None:
        pathway = journal.pathway(pathway_id, version=version)
    else:
        pathway = current
    response.headers["ETag"] = f'"{pathway.version}"'
    day = as_of.date() if as_of else today
    follow = pathway.follow_up
    return PathwayView(
        pathway_id=pathway.id, version=pathway.version, status=pathway.status,
        territory=pathway.territory, episode=pathway.episode, person=pathway.person,
        admitted_on=pathway.admitted_on, case_manager_id=pathway.case_manager_id,
        waiting_rank=pathway.waiting_rank,
        open_stay=Stay(**vars(pathway.open_stay)) if pathway.open_stay else None,
        care_circle=[Member(**vars(m)) for m in pathway.active_members(day)],
        plan_revision=pathway.plan_revision,
        plan_validated=pathway.plan_revision in follow.validations,
        last_evaluation=follow.last_evaluation,
        next_evaluation_due=pathway.next_evaluation_due(settings.policy()),
        last_contact_on=pathway.state.last_contact_on,
        open_alerts=len(pathway.open_alerts()),
        criteria_not_met=list(pathway.episodes[-1].criteria_not_met),
        criteria_override=pathway.episodes[-1].criteria_override,
    )


@router.get("/journal")
def journal_of(pathway_id: PathwayId, journal: JournalDep, principal: PrincipalDep,
               today: TodayDep, _: Annotated[Pathway, _file("journal")]) -> list[EventEnvelope]:
    """Every event of the episodes you may read, in order, with its actor and both
    timestamps."""
    return visible_events(journal, principal, pathway_id, today)


@router.get("/episodes")
def episodes(pathway: Annotated[Pathway, _file("episodes")], principal: PrincipalDep,
             today: TodayDep) -> list[Episode]:
    """The person's successive episodes you may read: referral, decision, closure."""
    visible = {e.number for e in access.visible_episodes(principal, PathwayFacts.of(pathway),
                                                          today)}
    return [Episode(**vars(e)) for e in pathway.episodes if e.number in visible]


@router.get("/care-circle")
def care_circle(pathway: Annotated[Pathway, _file("care-circle")], today: TodayDep,
                on: Annotated[date | None, Query(description="Date (aujourd'hui sinon)")] = None,
                ) -> list[Member]:
    """The care circle's members active on a date."""
    return [Member(**vars(m)) for m in pathway.active_members(on or today)]


class PlanRevisionView(ev.PlanRevised):
    """A revision of the PSI with where its validation by the médecin traitant stands."""

    status: Literal["awaiting_validation", "validated"]
    validated_on: date | None = None
    validated_by: str | None = None
    validator_id: str | None = None
    means: str | None = None
    received_on: date | None = None
    recorded_by: str | None = None


@router.get("/plan-revisions")
def plan_revisions(pathway: Annotated[Pathway, _file("plan")]) -> list[PlanRevisionView]:
    """Every revision of the service plan, oldest first, with its validation status."""
    plans, validations = pathway.follow_up.plans, pathway.follow_up.validations
    views = []
    for revision in sorted(plans):
        validation = validations.get(revision)
        views.append(PlanRevisionView(
            **plans[revision].model_dump(),
            status="validated" if validation else "awaiting_validation",
            **(validation.model_dump(exclude={"revision"}) if validation else {})))
    return views


@router.get("/plan-revisions/{before}/diff/{after}")
def plan_diff(pathway: Annotated[Pathway, _file("plan-diff")], before: Revision,
              after: Revision) -> PlanDiff:
    """What changed in the plan between two revisions."""
    plans = pathway.follow_up.plans
    missing = [r for r in (before, after) if r not in plans]
    if missing:
        raise RuleBrokenError("plan.unknown_revision",
                              f"Le PSI n'a pas de révision n° {missing[0]}.")
    return diff(plans[before], plans[after])


@router.get("/alerts")
def alerts(pathway: Annotated[Pathway, _file("alerts")]) -> list[AlertView]:
    """The alerts of the current episode, with their state."""
    return [AlertView(alert=a.raised, state=a.state, acknowledged_by=a.acknowledged_by,
                      resolved_by=a.resolved_by)
            for a in pathway.alerts.values()]


class AccessRecord(BaseModel):
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    outcome: str
    address: str | None


@router.get("/access-log")
def access_log(pathway: Annotated[Pathway, Coordinator], audit: AuditDep) -> list[AccessRecord]:
    """Who read this person's file, when, from where, and whether it was allowed."""
    return [AccessRecord.model_validate(r) for r in audit.of_pathway(str(pathway.id))]
