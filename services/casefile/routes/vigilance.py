"""Identity vigilance on a pathway: the hospitals' messages whose identity traits contradicted
the file's (the intake applied nothing of them), and marking one resolved once checked with the
hospital's identity-vigilance cell."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict

from services.casefile.routes.params import PathwayId
from shared import events as ev
from shared.api.http import (
    Authenticated,
    CommandResult,
    Follows,
    JournalDep,
    MetaDep,
    command_result,
    reading,
)
from shared.domain.pathway import Pathway
from shared.events.values import Text

router = APIRouter(prefix="/pathways/{pathway_id}/identity-vigilance", tags=["dossier"],
                   dependencies=[Authenticated])


class VigilanceView(BaseModel):
    """An incident: which hospital, which of its messages, which traits differed (never the
    hospital's values), and whether someone resolved it."""

    vigilance: ev.IdentityVigilanceRaised
    raised_at: datetime
    resolved: bool
    resolved_by: str | None
    resolved_at: datetime | None


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Text = ""
    """What was checked with the hospital (its identity-vigilance cell's answer)."""


@router.get("")
def incidents(pathway: Annotated[Pathway, Depends(reading("identity-vigilance"))]
              ) -> list[VigilanceView]:
    """The hospitals' messages whose identity traits contradicted the file's, open first."""
    views = [VigilanceView(vigilance=v.raised, raised_at=v.raised_at,
                           resolved=v.resolved_by is not None, resolved_by=v.resolved_by,
                           resolved_at=v.resolved_at)
             for v in pathway.vigilance.values()]
    return sorted(views, key=lambda v: (v.resolved, v.raised_at))


@router.post("/{vigilance_id}/resolution", dependencies=[Follows])
def resolve(pathway_id: PathwayId, vigilance_id: UUID, body: Resolution, journal: JournalDep,
            meta: MetaDep, response: Response) -> CommandResult:
    """Mark an incident resolved, once checked with the hospital: who did is recorded."""
    pathway = journal.resolve_identity_vigilance(pathway_id, vigilance_id, body.comment, meta)
    return command_result(pathway, response)
