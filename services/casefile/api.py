"""The case manager's commands on a pathway: each route turns its request into a use case of
the journal."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from services.casefile import requests as rq
from shared import access
from shared.events.values import NonEmpty
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


@router.post("/evaluations", dependencies=[Follows])
def evaluate(pathway_id: PathwayId, body: rq.Evaluation, journal: JournalDep, meta: MetaDep,
             expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a multidimensional evaluation (scale results as numbers only)."""
    return command_result(journal.evaluate(pathway_id, body.payload(), meta, expected),
                          response)


@router.post("/plan-revisions", dependencies=[Follows])
def revise_plan(pathway_id: PathwayId, body: rq.PlanRevision, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a new revision of the service plan (PSI); earlier revisions are kept."""
    return command_result(journal.revise_plan(pathway_id, body.payload(), meta, expected),
                          response)


@router.post("/plan-revisions/{revision}/validation", dependencies=[ValidatesPlan])
def validate_plan(pathway_id: PathwayId, revision: int, body: rq.Validation,
                  journal: JournalDep, meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """The médecin traitant validates a plan revision; or the case manager records the
    validation received from them, with the means and the day it arrived."""
    received = (ReceivedValidation(means=body.received_via, received_on=body.received_on)
                if body.received_via and body.received_on else None)
    pathway = journal.validate_plan(pathway_id, revision, body.validated_on, received, meta,
                                    expected)
    return command_result(pathway, response)


@router.post("/care-circle", dependencies=[Follows])
def join(pathway_id: PathwayId, body: rq.Joining, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A professional or relative joins the care circle with a role."""
    return command_result(journal.join_care_circle(pathway_id, body.payload(), meta, expected),
                          response)


@router.post("/care-circle/{member_id}/departure", dependencies=[Follows])
def leave(pathway_id: PathwayId, member_id: NonEmpty, body: rq.Departure, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A member leaves the care circle."""
    pathway = journal.leave_care_circle(pathway_id, body.payload(member_id), meta, expected)
    return command_result(pathway, response)


@router.post("/hospitalisations", dependencies=[Follows])
def hospitalise(pathway_id: PathwayId, body: rq.Hospitalisation, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a hospital admission (possibly late: its date is the real admission date)."""
    return command_result(journal.hospitalise(pathway_id, body.payload(), meta, expected),
                          response)


@router.post("/hospitalisations/transfer", dependencies=[Follows])
def transfer_stay(pathway_id: PathwayId, body: rq.StayTransfer, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Record a transfer of the open stay to another establishment."""
    return command_result(journal.transfer_stay(pathway_id, body.payload(), meta, expected),
                          response)


@router.post("/discharges", dependencies=[Follows])
def discharge(pathway_id: PathwayId, body: rq.Discharge, journal: JournalDep, meta: MetaDep,
              expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record the discharge that ends the open hospital stay."""
    return command_result(journal.discharge(pathway_id, body.payload(), meta, expected),
                          response)


@router.post("/discharge-letter", dependencies=[Follows])
def receive_letter(pathway_id: PathwayId, body: rq.DischargeLetter, journal: JournalDep,
                   meta: MetaDep, expected: ExpectedVersionDep,
                   response: Response) -> CommandResult:
    """Record that the discharge letter (lettre de liaison) arrived."""
    pathway = journal.receive_discharge_letter(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)


@router.post("/notes", dependencies=[Follows])
def note(pathway_id: PathwayId, body: rq.Note, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a contact with the person, the family or a professional."""
    return command_result(journal.note(pathway_id, body.payload(), meta, expected), response)


@router.post("/dysfunctions", dependencies=[Follows])
def report(pathway_id: PathwayId, body: rq.DysfunctionReport, journal: JournalDep,
           meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Report a dysfunction met while following this person, in the pathway's territory."""
    territory = journal.pathway(pathway_id).territory
    if body.territory not in (None, territory):
        raise ImplausibleInputError(
            "territory.mismatch",
            f"Un dysfonctionnement se signale sur le territoire du parcours ({territory}).",
            territory=territory)
    pathway = journal.report_dysfunction(pathway_id, body.payload(territory), meta, expected)
    return command_result(pathway, response)


@router.post("/closure", dependencies=[Follows])
def close(pathway_id: PathwayId, body: rq.Closure, journal: JournalDep, meta: MetaDep,
          expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Close the episode; it accepts no more events and its place goes to the waiting list."""
    return command_result(journal.close_episode(pathway_id, body.payload(), meta, expected),
                          response)
