"""The closure of an episode."""

from fastapi import APIRouter, Response

from services.casefile.routes.params import PathwayId
from shared.api.http import (
    Authenticated,
    CommandResult,
    ExpectedVersionDep,
    Follows,
    JournalDep,
    MetaDep,
    command_result,
)
from shared.domain import requests as rq

router = APIRouter(prefix="/pathways/{pathway_id}", tags=["dossier"],
                   dependencies=[Authenticated])


@router.post("/closure", dependencies=[Follows])
def close_episode(pathway_id: PathwayId, body: rq.Closure, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Close the episode; it accepts no more events and its place goes to the waiting list."""
    pathway = journal.close_episode(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)
