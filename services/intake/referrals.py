"""A referral as its sender follows it (``/referrals/{id}``), and the repeat referrals the
coordination resolves: referrals for a person already followed, or for a known INS with other
identity traits, which their sender was answered as any other (issue 19, finding 9)."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from shared import events as ev
from shared.api.http import (
    AuditDep,
    Authenticated,
    CommandResult,
    Coordinates,
    JournalDep,
    MetaDep,
    PrincipalDep,
    command_result,
    reading,
)
from shared.api.receipts import read_receipt
from shared.domain import access
from shared.domain import referral_requests as rq
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal

router = APIRouter(tags=["orientation et admission"], dependencies=[Authenticated])
PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]
ReferralId = Annotated[UUID, Path(description="Identifiant de l'orientation")]


class ReferralReceipt(BaseModel):
    """Where a referral stands, for its sender: received until the DAC decides, then the
    decision on the episode it opened, or the coordination's answer to a repeat referral."""

    referral_id: UUID
    status: Literal["received", "admitted", "refused", "joined", "declined"]
    decided_on: date | None = None


@router.get("/referrals/{referral_id}")
def receipt(referral_id: ReferralId, journal: JournalDep, principal: PrincipalDep,
            audit: AuditDep, request: Request) -> ReferralReceipt:
    """Where a referral you sent stands. Only its sender reads it; for anyone else it does
    not exist. It names no pathway and nothing of the person's other episodes."""
    found = read_receipt(journal, audit, principal, referral_id, "referral-receipt",
                         request.client.host if request.client else None)
    return ReferralReceipt.model_validate({"referral_id": referral_id, "status": found.status,
                                           "decided_on": found.decided_on})


class RepeatReferralView(BaseModel):
    """A repeat referral, for the coordination: who sent it, when, why it is one (the person
    already followed, or other traits for the INS: the traits as typed), and its outcome."""

    referral: ev.ReferralReceivedAgain
    received_at: datetime
    outcome: Literal["joined", "declined"] | None
    resolved_by: str | None
    resolved_at: datetime | None


def _coordinator_reads(principal: Principal, facts: access.PathwayFacts, day: date) -> bool:
    return access.coordinates(principal, facts.territory) and access.reads_file(
        principal, facts, day)


@router.get("/pathways/{pathway_id}/repeat-referrals")
def repeat_referrals(
    pathway: Annotated[Pathway, Depends(reading("repeat-referrals", _coordinator_reads))],
) -> list[RepeatReferralView]:
    """The referrals received for this person while followed (or for their INS with other
    traits), open first: the territory's coordinator's to resolve."""
    views = [RepeatReferralView.model_validate(vars(r) | {"referral": r.received})
             for r in pathway.repeat_referrals.values()]
    return sorted(views, key=lambda v: (v.outcome is not None, v.received_at))


@router.post("/pathways/{pathway_id}/repeat-referrals/{referral_id}/resolution",
             dependencies=[Coordinates])
def resolve(pathway_id: PathwayId, referral_id: ReferralId, body: rq.RepeatResolution,
            journal: JournalDep, meta: MetaDep, response: Response) -> CommandResult:
    """Resolve a repeat referral: joined to the pathway in progress, or declined. Once; the
    territory's coordinator only."""
    pathway = journal.resolve_repeat_referral(pathway_id, referral_id, body.outcome,
                                              body.comment, meta)
    return command_result(pathway, response)
