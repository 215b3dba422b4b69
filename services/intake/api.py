"""Referrals, admission decisions, case managers and the waiting list."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from shared import access
from shared import events as ev
from shared.events.values import NonEmpty, Person, Text
from shared.http import (
    Authenticated,
    CommandResult,
    Coordinates,
    ExpectedVersionDep,
    JournalDep,
    MetaDep,
    PrincipalDep,
    SettingsDep,
    command_result,
    forbid_unless,
    reading,
)
from shared.pathway.domain import Pathway
from shared.pathway.territory import Territory

router = APIRouter(tags=["orientation et admission"], dependencies=[Authenticated])
PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]


class AdmissionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decided_on: date
    case_manager_id: NonEmpty | None = Field(
        default=None, description="Sans gestionnaire désigné : celui qui a le plus de places, "
        "ou la liste d'attente si tous sont complets.")
    notes: Text = ""


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_manager_id: NonEmpty
    reason: NonEmpty


class CaseManager(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonEmpty
    capacity: int | None = Field(default=None, ge=1, le=100,
                                 description="Places ; la valeur par défaut du territoire sinon")


class ManagerLoad(BaseModel):
    case_manager_id: str
    name: str
    capacity: int
    active: int
    free_places: int


class WaitingPerson(BaseModel):
    rank: int
    pathway_id: UUID
    person_name: str


@router.post("/pathways", status_code=201)
def refer(referral: ev.Referred, journal: JournalDep, meta: MetaDep, principal: PrincipalDep,
          response: Response) -> CommandResult:
    """Send a referral (fiche d'orientation): opens the person's pathway or its next episode."""
    forbid_unless(access.refers(principal, referral.territory),
                  "orienter une personne vers ce territoire")
    pathway_id = journal.refer(referral, meta)
    response.headers["Location"] = f"/pathways/{pathway_id}"
    return command_result(journal.pathway(pathway_id), response)


@router.post("/pathways/{pathway_id}/admission", dependencies=[Coordinates])
def admit(pathway_id: PathwayId, decision: AdmissionDecision, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Admit the person: a case manager with room is assigned, or the person waits."""
    admitted = ev.Admitted(decided_on=decision.decided_on, notes=decision.notes)
    pathway = journal.admit(pathway_id, admitted, decision.case_manager_id, meta, expected)
    return command_result(pathway, response)


@router.post("/pathways/{pathway_id}/refusal", dependencies=[Coordinates])
def refuse(pathway_id: PathwayId, decision: ev.AdmissionRefused, journal: JournalDep,
           meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Refuse, with the reason and the orientation given to the situation."""
    pathway = journal.execute(pathway_id, lambda p: p.refuse(decision, meta), expected)
    return command_result(pathway, response)


@router.post("/pathways/{pathway_id}/case-manager", dependencies=[Coordinates])
def transfer(pathway_id: PathwayId, body: Transfer, journal: JournalDep, meta: MetaDep,
             expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Transfer the pathway to another case manager, with the reason."""
    pathway = journal.transfer(pathway_id, body.case_manager_id, body.reason, meta, expected)
    return command_result(pathway, response)


@router.put("/territories/{territory}/case-managers/{case_manager_id}")
def register_manager(territory: str, case_manager_id: str, body: CaseManager,
                     journal: JournalDep, settings: SettingsDep, meta: MetaDep,
                     principal: PrincipalDep) -> ManagerLoad:
    """Add a case manager to the territory, or change their capacity (part-time work)."""
    forbid_unless(access.manages_territory(principal, territory),
                  "gérer les gestionnaires de cas de ce territoire")
    capacity = body.capacity or settings.default_capacity
    board = journal.register_manager(territory, case_manager_id, body.name, capacity, meta)
    return _load(board, case_manager_id)


@router.get("/territories/{territory}/case-managers")
def managers(territory: str, journal: JournalDep, principal: PrincipalDep) -> list[ManagerLoad]:
    """Every case manager of the territory with their load and free places."""
    forbid_unless(access.manages_territory(principal, territory),
                  "voir les gestionnaires de cas de ce territoire")
    board = journal.territory(territory)
    return [_load(board, manager_id) for manager_id in sorted(board.managers)]


@router.get("/territories/{territory}/waiting-list")
def waiting_list(territory: str, journal: JournalDep,
                 principal: PrincipalDep) -> list[WaitingPerson]:
    """Persons admitted and waiting for a place, in rank order."""
    forbid_unless(access.coordinates(principal, territory),
                  "voir la liste d'attente de ce territoire")
    board = journal.territory(territory)
    return [
        WaitingPerson(rank=rank, pathway_id=pathway_id,
                      person_name=_name(journal.pathway(pathway_id).person))
        for rank, pathway_id in enumerate(board.queue, start=1)
    ]


def _load(board: Territory, manager_id: str) -> ManagerLoad:
    name, capacity = board.managers[manager_id]
    return ManagerLoad(case_manager_id=manager_id, name=name, capacity=capacity,
                       active=board.load(manager_id), free_places=board.free_places(manager_id))


def _name(person: Person | None) -> str:
    return f"{person.family_name.upper()} {person.given_names}" if person else ""


class ReferralStatus(BaseModel):
    pathway_id: UUID
    episode: int
    status: str
    decision: str | None
    decided_on: date | None


@router.get("/pathways/{pathway_id}/referral")
def referral_status(
    pathway: Annotated[Pathway, Depends(reading("referral", access.reads_decision))],
) -> ReferralStatus:
    """Where the referral stands: what the referring professional may see of the decision."""
    episode = pathway.episodes[-1]
    return ReferralStatus(pathway_id=pathway.id, episode=episode.number, status=pathway.status,
                          decision=episode.decision, decided_on=episode.decided_on)
