"""The case manager's commands on a pathway."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import access
from shared import events as ev
from shared.events.payloads import DysfunctionCategory
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
from shared.pathway.domain import ReceivedValidation
from shared.pathway.errors import ImplausibleInputError

router = APIRouter(prefix="/pathways/{pathway_id}", tags=["dossier"],
                   dependencies=[Authenticated])
PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]
ValidatesPlan = Depends(acting(access.validates_plan, "valider ce PSI"))


class Validation(BaseModel):
    """Signed in as the médecin traitant: the day of the validation only. Recording a
    validation received from them: also how and when it arrived."""

    model_config = ConfigDict(extra="forbid")

    validated_on: date
    received_via: Literal["courrier", "messagerie_securisee", "telephone"] | None = Field(
        default=None, description="Moyen par lequel la validation du médecin est parvenue")
    received_on: date | None = Field(default=None, description="Date de réception")

    @model_validator(mode="after")
    def _both_or_neither(self) -> "Validation":
        if (self.received_via is None) != (self.received_on is None):
            raise ValueError("une validation reçue précise le moyen (received_via) et la date "
                             "de réception (received_on)")
        return self


class DysfunctionReport(BaseModel):
    """A dysfunction met while following the person; its territory is the pathway's."""

    model_config = ConfigDict(extra="forbid")

    category: DysfunctionCategory
    description: NonEmpty
    reported_on: date | None = Field(default=None, description="Aujourd'hui sinon")
    territory: NonEmpty | None = Field(
        default=None, description="Accepté pour compatibilité : doit être celui du parcours")


class Departure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left_on: date
    reason: Text = ""


@router.post("/evaluations", dependencies=[Follows])
def evaluate(pathway_id: PathwayId, evaluation: ev.Evaluated, journal: JournalDep,
             meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a multidimensional evaluation (scale results as numbers only)."""
    pathway = journal.evaluate(pathway_id, evaluation, meta, expected)
    return command_result(pathway, response)


@router.post("/plan-revisions", dependencies=[Follows])
def revise_plan(pathway_id: PathwayId, plan: ev.PlanRevised, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a new revision of the service plan (PSI); earlier revisions are kept."""
    pathway = journal.revise_plan(pathway_id, plan, meta, expected)
    return command_result(pathway, response)


@router.post("/plan-revisions/{revision}/validation", dependencies=[ValidatesPlan])
def validate_plan(pathway_id: PathwayId, revision: int, body: Validation, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """The médecin traitant validates a plan revision; or the case manager records the
    validation received from them, with the means and the day it arrived."""
    received = (ReceivedValidation(means=body.received_via, received_on=body.received_on)
                if body.received_via and body.received_on else None)
    pathway = journal.validate_plan(pathway_id, revision, body.validated_on, received, meta,
                                    expected)
    return command_result(pathway, response)


@router.post("/care-circle", dependencies=[Follows])
def join(pathway_id: PathwayId, joined: ev.MemberJoined, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A professional or relative joins the care circle with a role."""
    pathway = journal.join_care_circle(pathway_id, joined, meta, expected)
    return command_result(pathway, response)


@router.post("/care-circle/{member_id}/departure", dependencies=[Follows])
def leave(pathway_id: PathwayId, member_id: NonEmpty, body: Departure, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A member leaves the care circle."""
    left = ev.MemberLeft(member_id=member_id, left_on=body.left_on, reason=body.reason)
    pathway = journal.leave_care_circle(pathway_id, left, meta, expected)
    return command_result(pathway, response)


@router.post("/hospitalisations", dependencies=[Follows])
def hospitalise(pathway_id: PathwayId, stay: ev.Hospitalised, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a hospital admission (possibly late: its date is the real admission date)."""
    pathway = journal.hospitalise(pathway_id, stay, meta, expected)
    return command_result(pathway, response)


@router.post("/hospitalisations/transfer", dependencies=[Follows])
def transfer_stay(pathway_id: PathwayId, transfer: ev.StayTransferred, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Record a transfer of the open stay to another establishment."""
    pathway = journal.transfer_stay(pathway_id, transfer, meta, expected)
    return command_result(pathway, response)


@router.post("/discharges", dependencies=[Follows])
def discharge(pathway_id: PathwayId, discharge: ev.Discharged, journal: JournalDep,
              meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record the discharge that ends the open hospital stay."""
    pathway = journal.discharge(pathway_id, discharge, meta, expected)
    return command_result(pathway, response)


@router.post("/discharge-letter", dependencies=[Follows])
def receive_letter(pathway_id: PathwayId, letter: ev.DischargeLetterReceived,
                   journal: JournalDep, meta: MetaDep, expected: ExpectedVersionDep,
                   response: Response) -> CommandResult:
    """Record that the discharge letter (lettre de liaison) arrived."""
    pathway = journal.receive_discharge_letter(pathway_id, letter, meta, expected)
    return command_result(pathway, response)


@router.post("/notes", dependencies=[Follows])
def note(pathway_id: PathwayId, note: ev.FollowUpNoted, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a contact with the person, the family or a professional."""
    pathway = journal.note(pathway_id, note, meta, expected)
    return command_result(pathway, response)


@router.post("/dysfunctions", dependencies=[Follows])
def report(pathway_id: PathwayId, body: DysfunctionReport, journal: JournalDep, meta: MetaDep,
           expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Report a dysfunction met while following this person, in the pathway's territory."""
    territory = journal.pathway(pathway_id).territory
    if body.territory not in (None, territory):
        raise ImplausibleInputError(
            "territory.mismatch",
            f"Un dysfonctionnement se signale sur le territoire du parcours ({territory}).",
            territory=territory)
    report = ev.DysfunctionReported(category=body.category, description=body.description,
                                    territory=territory, reported_on=body.reported_on)
    pathway = journal.report_dysfunction(pathway_id, report, meta, expected)
    return command_result(pathway, response)


@router.post("/closure", dependencies=[Follows])
def close(pathway_id: PathwayId, closure: ev.Closed, journal: JournalDep, meta: MetaDep,
          expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Close the episode; it accepts no more events and its place goes to the waiting list."""
    return command_result(journal.close_episode(pathway_id, closure, meta, expected), response)

