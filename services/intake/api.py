"""Referrals and admission decisions."""

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from shared import events as ev
from shared.events.values import NonEmpty, Text
from shared.http import (
    CommandResult,
    ExpectedVersionDep,
    JournalDep,
    MetaDep,
    command_result,
)

router = APIRouter(prefix="/pathways", tags=["orientation et admission"])


class AdmissionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decided_on: date
    case_manager_id: NonEmpty
    case_manager_name: NonEmpty
    notes: Text = ""


@router.post("", status_code=201)
def refer(referral: ev.Referred, journal: JournalDep, meta: MetaDep,
          response: Response) -> CommandResult:
    """Send a referral (fiche d'orientation): opens the person's pathway or its next episode."""
    pathway_id = journal.refer(referral, meta)
    response.headers["Location"] = f"/pathways/{pathway_id}"
    return command_result(journal.pathway(pathway_id), response)


@router.post("/{pathway_id}/admission")
def admit(pathway_id: UUID, decision: AdmissionDecision, journal: JournalDep, meta: MetaDep,
          expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record the team's decision to admit, and the case manager assigned."""
    admitted = ev.Admitted(decided_on=decision.decided_on, notes=decision.notes)
    assigned = ev.CaseManagerAssigned(
        case_manager_id=decision.case_manager_id, case_manager_name=decision.case_manager_name
    )
    pathway = journal.execute(pathway_id, lambda p: p.admit(admitted, assigned, meta), expected)
    return command_result(pathway, response)


@router.post("/{pathway_id}/refusal")
def refuse(pathway_id: UUID, decision: ev.AdmissionRefused, journal: JournalDep,
           meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Record a refusal, with its reason and the orientation given to the situation."""
    pathway = journal.execute(pathway_id, lambda p: p.refuse(decision, meta), expected)
    return command_result(pathway, response)


@router.post("/{pathway_id}/case-manager")
def transfer(pathway_id: UUID, assignment: ev.CaseManagerAssigned, journal: JournalDep,
             meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Transfer the pathway to another case manager."""
    pathway = journal.execute(pathway_id, lambda p: p.assign(assignment, meta), expected)
    return command_result(pathway, response)
