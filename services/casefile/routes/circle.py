"""The care circle: professionals and relatives joining and leaving it."""

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
from shared.events.values import NonEmpty

router = pathway_router()


@router.post("/care-circle", dependencies=[Follows])
def join_care_circle(pathway_id: PathwayId, body: rq.Joining, journal: JournalDep,
                     meta: MetaDep, expected: ExpectedVersionDep,
                     response: Response) -> CommandResult:
    """A professional or relative joins the care circle with a role."""
    pathway = journal.join_care_circle(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)


@router.post("/care-circle/{member_id}/departure", dependencies=[Follows])
def leave(pathway_id: PathwayId, member_id: NonEmpty, body: rq.Departure, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """A member leaves the care circle."""
    pathway = journal.leave_care_circle(pathway_id, body.payload(member_id), meta, expected)
    return command_result(pathway, response)
