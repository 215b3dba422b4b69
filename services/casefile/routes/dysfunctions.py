"""Dysfunctions met while following a person, reported in the pathway's territory."""

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
from shared.domain.errors import ImplausibleInputError

router = pathway_router()


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
