"""Follow-up notes: the contacts with the person, the family or a professional."""

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


@router.post("/notes", dependencies=[Follows])
def note(pathway_id: PathwayId, body: rq.Note, journal: JournalDep, meta: MetaDep,
         expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a contact with the person, the family or a professional."""
    return command_result(journal.note(pathway_id, body.payload(), meta, expected), response)
