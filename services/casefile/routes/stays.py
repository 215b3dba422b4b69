"""Hospital stays: admission, transfer, discharge, and the discharge letter arriving."""

from fastapi import Response

from services.casefile.routes.params import PathwayId, pathway_router
from shared.api.http import (
    CommandResult,
    ExpectedVersionDep,
    Follows,
    JournalDep,
    MetaDep,
    command_result,
)
from shared.domain import requests as rq

router = pathway_router()


@router.post("/hospitalisations", dependencies=[Follows])
def hospitalise(pathway_id: PathwayId, body: rq.Hospitalisation, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep,
                response: Response) -> CommandResult:
    """Record a hospital admission (possibly late: its date is the real admission date)."""
    pathway = journal.hospitalise(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)


@router.post("/hospitalisations/transfer", dependencies=[Follows])
def transfer_stay(pathway_id: PathwayId, body: rq.StayTransfer, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Record a transfer of the open stay to another establishment."""
    pathway = journal.transfer_stay(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)


@router.post("/discharges", dependencies=[Follows])
def discharge(pathway_id: PathwayId, body: rq.Discharge, journal: JournalDep, meta: MetaDep,
              expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record the discharge that ends the open hospital stay."""
    pathway = journal.discharge(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)


@router.post("/discharge-letter", dependencies=[Follows])
def receive_discharge_letter(pathway_id: PathwayId, body: rq.DischargeLetter,
                             journal: JournalDep, meta: MetaDep,
                             expected: ExpectedVersionDep,
                             response: Response) -> CommandResult:
    """Record that the discharge letter (lettre de liaison) arrived."""
    pathway = journal.receive_discharge_letter(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)
