"""The case manager's side of a pathway."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from shared import events as ev
from shared.events import EventEnvelope
from shared.events.values import Person
from shared.http import (
    CommandResult,
    ExpectedVersionDep,
    JournalDep,
    MetaDep,
    command_result,
)

router = APIRouter(prefix="/pathways", tags=["dossier"])


@router.post("/{pathway_id}/evaluations")
def evaluate(pathway_id: UUID, evaluation: ev.Evaluated, journal: JournalDep, meta: MetaDep,
             expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a multidimensional evaluation."""
    pathway = journal.execute(pathway_id, lambda p: p.evaluate(evaluation, meta), expected)
    return command_result(pathway, response)


@router.post("/{pathway_id}/plan-revisions")
def revise_plan(pathway_id: UUID, plan: ev.PlanRevised, journal: JournalDep, meta: MetaDep,
                expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a new revision of the service plan (PSI)."""
    pathway = journal.execute(pathway_id, lambda p: p.revise_plan(plan, meta), expected)
    return command_result(pathway, response)


@router.post("/{pathway_id}/hospitalisations")
def hospitalise(pathway_id: UUID, stay: ev.Hospitalised, journal: JournalDep, meta: MetaDep,
                expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a hospital admission (possibly late: its date is the real admission date)."""
    pathway = journal.execute(pathway_id, lambda p: p.hospitalise(stay, meta), expected)
    return command_result(pathway, response)


@router.post("/{pathway_id}/discharges")
def discharge(pathway_id: UUID, discharge: ev.Discharged, journal: JournalDep, meta: MetaDep,
              expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record the discharge that ends the open hospital stay."""
    pathway = journal.execute(pathway_id, lambda p: p.discharge(discharge, meta), expected)
    return command_result(pathway, response)


@router.post("/{pathway_id}/closure")
def close(pathway_id: UUID, closure: ev.Closed, journal: JournalDep, meta: MetaDep,
          expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Close the episode; it accepts no more events afterwards."""
    pathway = journal.execute(pathway_id, lambda p: p.close(closure, meta), expected)
    return command_result(pathway, response)


class PathwayView(BaseModel):
    pathway_id: UUID
    version: int
    status: str
    episode: int
    person: Person | None
    case_manager_id: str | None
    open_stay: ev.Hospitalised | None
    plan_revision: int
    last_evaluation: ev.Evaluated | None


@router.get("/{pathway_id}")
def read(pathway_id: UUID, journal: JournalDep, response: Response,
         version: Annotated[int | None, Query(ge=1)] = None) -> PathwayView:
    """The pathway's state now, or as it was at a given stream version."""
    pathway = journal.pathway(pathway_id, version=version)
    response.headers["ETag"] = f'"{pathway.version}"'
    return PathwayView(
        pathway_id=pathway.id, version=pathway.version, status=pathway.status,
        episode=pathway.episode, person=pathway.person, case_manager_id=pathway.case_manager_id,
        open_stay=pathway.open_stay, plan_revision=pathway.plan_revision,
        last_evaluation=pathway.last_evaluation,
    )


@router.get("/{pathway_id}/journal")
def journal_of(pathway_id: UUID, journal: JournalDep) -> list[EventEnvelope]:
    """Every event of the pathway in order, with its actor and both timestamps."""
    return list(journal.journal(pathway_id))
