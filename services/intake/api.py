"""Referrals, admission decisions, case managers and the waiting list."""

from dataclasses import replace
from datetime import date
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared import events as ev
from shared.api.http import (
    AuditDep,
    Authenticated,
    CommandResult,
    Coordinates,
    ExpectedVersionDep,
    JournalDep,
    MetaDep,
    PrincipalDep,
    TodayDep,
    acting,
    command_result,
    event,
    forbid_unless,
    reading,
)
from shared.domain import access
from shared.domain import referral_requests as rq
from shared.domain.access import PathwayFacts
from shared.domain.commands import Answer, Meta
from shared.domain.errors import ConcurrentChangeError, ForbiddenError, RuleBrokenError
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.domain.territory import Territory
from shared.events.values import Person
from shared.journal.application import Journal
from shared.storage.audit import Access

router = APIRouter(tags=["orientation et admission"], dependencies=[Authenticated])
PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]


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


class ReferralReceived(BaseModel):
    """What a referring professional is answered: the same whoever the person is."""

    referral_id: UUID = Field(description="Pour suivre l'orientation : GET /referrals/{id}")
    status: Literal["received"] = "received"


RECEIVED_DOC = (
    "Orientation reçue (professionnel orienteur) : la même réponse que la personne soit "
    "connue ou non ; la coordination traite un doublon en commission.")


@router.post("/pathways", status_code=201, response_model=CommandResult,
             responses={202: {"model": ReferralReceived, "description": RECEIVED_DOC}})
def refer(body: rq.ReferralRequest, journal: JournalDep, meta: MetaDep, principal: PrincipalDep,
          today: TodayDep, audit: AuditDep, request: Request,
          response: Response) -> CommandResult | JSONResponse:
    """Send a referral (fiche d'orientation) in your own name. A referring professional is
    answered 202 with the referral's id, whether the person is new, followed or known before;
    the DAC's staff, 201 with the pathway (or its next episode), or 409 with the conflict."""
    forbid_unless(access.refers(principal, body.territory),
                  "orienter une personne vers ce territoire")
    if body.referrer.id not in (None, principal.id):
        raise ForbiddenError("Vous ne pouvez orienter une personne qu'en votre propre nom.")
    referral = event(lambda: body.payload(principal.id, principal.name, uuid4()))
    if principal.role == "referrer":
        return _received(journal, referral, meta)
    try:
        pathway_id = journal.refer(referral, meta)
    except RuleBrokenError as error:
        told = _told_to_readers_only(error, journal, principal, today)
        if "pathway_id" in error.details:  # an attempt on a known person's file is a read
            audit.record(Access(
                at=meta.now, actor_id=principal.id, actor_role=principal.role,
                territory=principal.territory, action="referral-conflict",
                pathway_id=str(error.details["pathway_id"]),
                outcome="allowed" if told is error else "refused",
                address=request.client.host if request.client else None))
        raise told from None
    response.headers["Location"] = f"/pathways/{pathway_id}"
    return command_result(journal.pathway(pathway_id), response)


def _received(journal: Journal, referral: ev.Referred, meta: Meta) -> JSONResponse:
    """A referring professional's referral: one answer, built from the referral alone, for a
    new person, a person followed or known before, or an INS with other traits (finding 9).
    The same answer is what the key keeps, for a referral sent again."""
    answer = Answer(202, ReferralReceived(referral_id=referral.referral_id or uuid4())
                    .model_dump(mode="json"),
                    {"Location": f"/referrals/{referral.referral_id}"})
    if meta.idempotency is not None:
        meta = replace(meta, idempotency=replace(meta.idempotency, answer=lambda _: answer))
    try:
        journal.receive_referral(referral, meta)
    except ConcurrentChangeError:
        # Ten attempts lost to other writes on a known person's pathway: say so without the
        # pathway's version (the usual answer's ETag would name a stream).
        raise ConcurrentChangeError("Orientation non enregistrée : réessayez dans un instant.")\
            from None
    return JSONResponse(dict(answer.body), answer.status_code, headers=dict(answer.headers))


def _told_to_readers_only(error: RuleBrokenError, journal: Journal, principal: Principal,
                          today: date) -> RuleBrokenError:
    """Which pathway a person has, and how their identity differs, are for those who may
    read their file; a referrer who may not is told the rule only."""
    pathway_id = error.details.get("pathway_id")
    if pathway_id is None:
        return error
    facts = PathwayFacts.of(journal.pathway(UUID(str(pathway_id))))
    if access.reads_file(principal, facts, today):
        return error
    return RuleBrokenError(error.code, error.message)


def _coordinated_here(principal: Principal, facts: PathwayFacts, day: date) -> bool:
    return principal.role == "coordinator" and any(
        e.territory == principal.territory for e in facts.episodes)


@router.post("/pathways/{pathway_id}/sharing",
             dependencies=[Depends(acting(_coordinated_here, "partager ces épisodes"))])
def share_episodes(pathway_id: PathwayId, body: rq.Sharing, journal: JournalDep,
                   meta: MetaDep, principal: PrincipalDep, response: Response) -> CommandResult:
    """Share your territory's episodes of this person with the territory they move to, with
    their consent; without it, each territory reads only its own episodes."""
    shared = ev.EpisodesShared(from_territory=principal.territory or "",
                               with_territory=body.with_territory,
                               consent_given_on=body.consent_given_on)
    return command_result(journal.share_episodes(pathway_id, shared, meta), response)


@router.post("/pathways/{pathway_id}/identity", dependencies=[Coordinates])
def correct_identity(pathway_id: PathwayId, body: rq.IdentityCorrection, journal: JournalDep,
                     meta: MetaDep, expected: ExpectedVersionDep,
                     response: Response) -> CommandResult:
    """Correct the person's identity traits, with the reason; the journal keeps both."""
    correction = ev.IdentityCorrected(**body.model_dump())
    return command_result(journal.correct_identity(pathway_id, correction, meta, expected),
                          response)


@router.post("/pathways/{pathway_id}/admission", dependencies=[Coordinates])
def admit(pathway_id: PathwayId, decision: rq.AdmissionDecision, journal: JournalDep,
          meta: MetaDep, expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Admit the person: a case manager with room is assigned, or the person waits. A
    referral that does not meet every national criterion needs the commission's
    justification (criteria_override)."""
    pathway = journal.admit(pathway_id, decision.payload(), decision.case_manager_id, meta,
                            expected)
    return command_result(pathway, response)


@router.post("/pathways/{pathway_id}/refusal", dependencies=[Coordinates])
def refuse(pathway_id: PathwayId, body: rq.Refusal, journal: JournalDep, meta: MetaDep,
           expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Refuse, with the reason and the orientation given to the situation."""
    return command_result(journal.refuse(pathway_id, body.payload(), meta, expected), response)


@router.post("/pathways/{pathway_id}/case-manager", dependencies=[Coordinates])
def transfer(pathway_id: PathwayId, body: rq.Transfer, journal: JournalDep, meta: MetaDep,
             expected: ExpectedVersionDep, response: Response) -> CommandResult:
    """Transfer the pathway to another case manager, with the reason."""
    pathway = journal.transfer(pathway_id, body.case_manager_id, body.reason, meta, expected)
    return command_result(pathway, response)


@router.put("/territories/{territory}/case-managers/{case_manager_id}")
def register_manager(territory: str, case_manager_id: str, body: rq.CaseManager,
                     journal: JournalDep, meta: MetaDep,
                     principal: PrincipalDep) -> ManagerLoad:
    """Add a case manager to the territory, or change their capacity (part-time work)."""
    forbid_unless(access.manages_territory(principal, territory),
                  "gérer les gestionnaires de cas de ce territoire")
    places = journal.register_manager(territory, case_manager_id, body.name, body.capacity,
                                      meta)
    return _load(places, case_manager_id)


@router.get("/territories/{territory}/case-managers")
def managers(territory: str, journal: JournalDep, principal: PrincipalDep) -> list[ManagerLoad]:
    """Every case manager of the territory with their load and free places."""
    forbid_unless(access.manages_territory(principal, territory),
                  "voir les gestionnaires de cas de ce territoire")
    places = journal.territory(territory)
    return [_load(places, manager_id) for manager_id in sorted(places.managers)]


@router.get("/territories/{territory}/waiting-list")
def waiting_list(territory: str, journal: JournalDep,
                 principal: PrincipalDep) -> list[WaitingPerson]:
    """Persons admitted and waiting for a place, in rank order."""
    forbid_unless(access.coordinates(principal, territory),
                  "voir la liste d'attente de ce territoire")
    places = journal.territory(territory)
    return [
        WaitingPerson(rank=rank, pathway_id=pathway_id,
                      person_name=_name(journal.pathway(pathway_id).person))
        for rank, pathway_id in enumerate(places.queue, start=1)
    ]


def _load(places: Territory, manager_id: str) -> ManagerLoad:
    name, capacity = places.managers[manager_id]
    return ManagerLoad(case_manager_id=manager_id, name=name, capacity=capacity,
                       active=places.load(manager_id),
                       free_places=places.free_places(manager_id))


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
