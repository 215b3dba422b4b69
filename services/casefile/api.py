"""The case manager's commands on a pathway: each route turns its request into a use case of
the journal."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from shared.api.http import (
    Authenticated,
    CommandResult,
    ExpectedVersionDep,
    Follows,
    JournalDep,
    MetaDep,
    Revision,
    acting,
    command_result,
)
from shared.domain import access
from shared.domain import requests as rq
from shared.domain.commands import Meta
from shared.domain.errors import ImplausibleInputError
from shared.domain.pathway import Pathway
from shared.domain.records import ReceivedValidation
from shared.events.values import NonEmpty
from shared.journal.application import Journal

router = APIRouter(prefix="/pathways/{pathway_id}", tags=["dossier"],
                   dependencies=[Authenticated])
PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]
ValidatesPlan = Depends(acting(access.validates_plan, "valider ce PSI"))


@router.post("/plan-revisions/{revision}/validation", dependencies=[ValidatesPlan])
def validate_plan(pathway_id: PathwayId, revision: Revision, body: rq.Validation,
                  journal: JournalDep, meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """The médecin traitant validates a plan revision; or the case manager records the
    validation received from them, with the means and the day it arrived."""
    received = (ReceivedValidation(means=body.received_via, received_on=body.received_on)
                if body.received_via and body.received_on else None)
    pathway = journal.validate_plan(pathway_id, revision, body.validated_on, received, meta,
                                    expected)
    return command_result(pathway, response)


@router.post("/care-circle/{member_id}/departure", dependencies=[Follows])
def leave(pathway_id: PathwayId, member_id: NonEmpty, body: rq.Departure, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A member leaves the care circle."""
    pathway = journal.leave_care_circle(pathway_id, body.payload(member_id), meta, expected)
    return command_result(pathway, response)


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


Request = TypeVar("Request", bound=rq.Request)
UseCase = Callable[[Journal, UUID, Any, Meta, int | None], Pathway]


def _command(model: type[Request], use_case: UseCase, summary: str) -> Callable[..., Any]:
    """A route that turns its request into the use case's payload, for whoever follows the
    person; ``If-Match`` makes it conditional on the version."""
    def run(pathway_id: PathwayId, body: model, journal: JournalDep,  # type: ignore[valid-type]
            meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
        payload = body.payload()  # type: ignore[attr-defined]  # each model has its own
        return command_result(use_case(journal, pathway_id, payload, meta, expected), response)
    run.__doc__ = summary
    return run


COMMANDS: tuple[tuple[str, type[Any], UseCase, str], ...] = (
    ("/evaluations", rq.Evaluation, Journal.evaluate,
     "Record a multidimensional evaluation (scale results as numbers only)."),
    ("/plan-revisions", rq.PlanRevision, Journal.revise_plan,
     "Record a new revision of the service plan (PSI); earlier revisions are kept."),
    ("/care-circle", rq.Joining, Journal.join_care_circle,
     "A professional or relative joins the care circle with a role."),
    ("/hospitalisations", rq.Hospitalisation, Journal.hospitalise,
     "Record a hospital admission (possibly late: its date is the real admission date)."),
    ("/hospitalisations/transfer", rq.StayTransfer, Journal.transfer_stay,
     "Record a transfer of the open stay to another establishment."),
    ("/discharges", rq.Discharge, Journal.discharge,
     "Record the discharge that ends the open hospital stay."),
    ("/discharge-letter", rq.DischargeLetter, Journal.receive_discharge_letter,
     "Record that the discharge letter (lettre de liaison) arrived."),
    ("/notes", rq.Note, Journal.note,
     "Record a contact with the person, the family or a professional."),
    ("/closure", rq.Closure, Journal.close_episode,
     "Close the episode; it accepts no more events and its place goes to the waiting list."),
)
"""The case file's commands that need nothing but their request: path, request model, use
case, and the line the OpenAPI description shows."""
for _path, _model, _use_case, _summary in COMMANDS:
    router.add_api_route(_path, _command(_model, _use_case, _summary), methods=["POST"],
                         dependencies=[Follows], name=_use_case.__name__)
