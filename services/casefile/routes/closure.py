"""The closure of an episode."""

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


@router.post("/closure", dependencies=[Follows])
def close_episode(pathway_id: PathwayId, body: rq.Closure, journal: JournalDep,
                  meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """Close the episode; it accepts no more events and its place goes to the waiting list."""
    pathway = journal.close_episode(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)
