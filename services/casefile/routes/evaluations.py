"""Evaluations of the person's situation."""

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


@router.post("/evaluations", dependencies=[Follows])
def evaluate(pathway_id: PathwayId, body: rq.Evaluation, journal: JournalDep, meta: MetaDep,
             expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a multidimensional evaluation (scale results as numbers only)."""
    pathway = journal.evaluate(pathway_id, body.payload(), meta, expected)
    return command_result(pathway, response)
