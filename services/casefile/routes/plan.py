"""The service plan (PSI): its revisions and their validation by the médecin traitant."""

from fastapi import Depends, Response

from services.casefile.routes.params import PathwayId, pathway_router
from shared.api.http import (
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

router = pathway_router()
ValidatesPlan = Depends(acting(access.validates_plan, "valider ce PSI"))


@router.post("/plan-revisions", dependencies=[Follows])
def revise_plan(pathway_id: PathwayId, body: rq.PlanRevision, journal: JournalDep,
                meta: MetaDep, expected: ExpectedVersionDep,
                response: Response) -> CommandResult:
    """Record a new revision of the service plan (PSI); earlier revisions are kept."""
    pathway = journal.revise_plan(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)


@router.post("/plan-revisions/{revision}/validation", dependencies=[ValidatesPlan])
def validate_plan(pathway_id: PathwayId, revision: Revision, body: rq.Validation,
                  journal: JournalDep, meta: MetaDep, expected: ExpectedVersionDep,
                  response: Response) -> CommandResult:
    """The médecin traitant validates a plan revision; or the case manager records the
    validation received from them, with the means and the day it arrived."""
    pathway = journal.validate_plan(pathway_id, revision, body.validated_on, body.received(),
                                    meta, expected)
    return command_result(pathway, response)
