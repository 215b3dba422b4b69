"""The service plan (PSI): its revisions and their validation by the médecin traitant."""

from fastapi import APIRouter, Depends, Response

from services.casefile.routes.params import PathwayId
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

router = APIRouter(prefix="/pathways/{pathway_id}", tags=["dossier"],
                   dependencies=[Authenticated])
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
