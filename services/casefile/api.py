"""The case manager's commands on a pathway."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict

from shared import access
from shared import events as ev
from shared.events.values import NonEmpty, Text
from shared.http import (
    Authenticated,
    CommandResult,
    ExpectedVersionDep,
    Follows,
    JournalDep,
    MetaDep,
    acting,
    command_result,
)

router = APIRouter(prefix="/pathways/{pathway_id}", tags=["dossier"],
                   dependencies=[Authenticated])
PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]
ValidatesPlan = Depends(acting(access.validates_plan, "valider ce PSI"))


class Validation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    validated_on: date


class Departure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left_on: date
    reason: Text = ""


@router.post("/evaluations", dependencies=[Follows])
def evaluate(pathway_id: PathwayId, evaluation: ev.Evaluated, journal: JournalDep,
             meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a multidimensional evaluation (scale results as numbers only)."""
    pathway = journal.execute(pathway_id, lambda p: p.evaluate(evaluation, meta), expected)
    return command_result(pathway, response)


@router.post("/plan-revisions", dependencies=[Follows])
def revise_plan(pathway_id: PathwayId, plan: ev.PlanRevised, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a new revision of the service plan (PSI); earlier revisions are kept."""
    pathway = journal.execute(pathway_id, lambda p: p.revise_plan(plan, meta), expected)
    return command_result(pathway, response)


@router.post("/plan-revisions/{revision}/validation", dependencies=[ValidatesPlan])
def validate_plan(pathway_id: PathwayId, revision: int, body: Validation, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Record the médecin traitant's validation of a plan revision."""
    pathway = journal.execute(
        pathway_id, lambda p: p.validate_plan(revision, body.validated_on, meta), expected
    )
    return command_result(pathway, response)


@router.post("/care-circle", dependencies=[Follows])
def join(pathway_id: PathwayId, joined: ev.MemberJoined, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A professional or relative joins the care circle with a role."""
    pathway = journal.execute(pathway_id, lambda p: p.join(joined, meta), expected)
    return command_result(pathway, response)


@router.post("/care-circle/{member_id}/departure", dependencies=[Follows])
def leave(pathway_id: PathwayId, member_id: NonEmpty, body: Departure, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A member leaves the care circle."""
    left = ev.MemberLeft(member_id=member_id, left_on=body.left_on, reason=body.reason)
    pathway = journal.execute(pathway_id, lambda p: p.leave(left, meta), expected)
    return command_result(pathway, response)


@router.post("/hospitalisations", dependencies=[Follows])
def hospitalise(pathway_id: PathwayId, stay: ev.Hospitalised, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a hospital admission (possibly late: its date is the real admission date)."""
    pathway = journal.execute(pathway_id, lambda p: p.hospitalise(stay, meta), expected)
    return command_result(pathway, response)


@router.post("/hospitalisations/transfer", dependencies=[Follows])
def transfer_stay(pathway_id: PathwayId, transfer: ev.StayTransferred, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Record a transfer of the open stay to another establishment."""
    pathway = journal.execute(pathway_id, lambda p: p.transfer_stay(transfer, meta), expected)
    return command_result(pathway, response)


@router.post("/discharges", dependencies=[Follows])
def discharge(pathway_id: PathwayId, discharge: ev.Discharged, journal: JournalDep,
              meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record the discharge that ends the open hospital stay."""
    pathway = journal.execute(pathway_id, lambda p: p.discharge(discharge, meta), expected)
    return command_result(pathway, response)


@router.post("/discharge-letter", dependencies=[Follows])
def receive_letter(pathway_id: PathwayId, letter: ev.DischargeLetterReceived,
                   journal: JournalDep, meta: MetaDep, expected: ExpectedVersionDep,
                   response: Response) -> CommandResult:
    """Record that the discharge letter (lettre de liaison) arrived."""
    pathway = journal.execute(pathway_id, lambda p: p.receive_discharge_letter(letter, meta),
                              expected)
    return command_result(pathway, response)


@router.post("/notes", dependencies=[Follows])
def note(pathway_id: PathwayId, note: ev.FollowUpNoted, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a contact with the person, the family or a professional."""
    pathway = journal.execute(pathway_id, lambda p: p.note(note, meta), expected)
    return command_result(pathway, response)


@router.post("/dysfunctions", dependencies=[Follows])
def report(pathway_id: PathwayId, report: ev.DysfunctionReported, journal: JournalDep,
           meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Report a dysfunction met while following this person."""
    pathway = journal.execute(pathway_id, lambda p: p.report_dysfunction(report, meta),
                              expected)
    return command_result(pathway, response)


@router.post("/closure", dependencies=[Follows])
def close(pathway_id: PathwayId, closure: ev.Closed, journal: JournalDep, meta: MetaDep,
          expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Close the episode; it accepts no more events and its place goes to the waiting list."""
    return command_result(journal.close_episode(pathway_id, closure, meta, expected), response)

