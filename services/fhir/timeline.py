"""The pathway's history folded from its journal into what the FHIR resources show: every
episode with its stays, plan revisions and care-circle memberships, not only the current one
(the aggregate keeps the current episode alone). Pure: no I/O."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from shared import events as ev
from shared.events import Actor, EventEnvelope
from shared.events.payloads import (
    AdmissionCancelled,
    DischargeCancelled,
    MovementCorrected,
    TransferCancelled,
)
from shared.events.values import CareCircleMember


@dataclass
class StayView:
    number: int
    establishment: str
    ward: str
    kind: str
    admitted_at: datetime
    discharged_at: datetime | None = None
    destination: str | None = None
    cancelled: bool = False
    admission_event: UUID | None = None
    location_event: UUID | None = None
    """The event that set the current unit: a hospital's correction of it moves the stay."""
    discharge_event: UUID | None = None


@dataclass
class PlanView:
    plan: ev.PlanRevised
    author: Actor
    recorded_on: date
    validation: ev.PlanValidated | None = None


@dataclass
class MembershipView:
    member: CareCircleMember
    joined_on: date
    left_on: date | None = None


@dataclass
class EpisodeView:
    number: int
    referred_on: date
    decision: str | None = None
    closed_on: date | None = None
    case_manager: tuple[str, str] | None = None
    stays: list[StayView] = field(default_factory=list)
    plans: list[PlanView] = field(default_factory=list)
    members: list[MembershipView] = field(default_factory=list)

    @property
    def status(self) -> str:
        """EpisodeOfCare.status."""
        if self.decision == "refused":
            return "cancelled"
        if self.closed_on is not None:
            return "finished"
        return "active" if self.decision == "admitted" else "planned"

    @property
    def open_stay(self) -> StayView | None:
        open_stays = [s for s in self.stays if s.discharged_at is None and not s.cancelled]
        return open_stays[-1] if open_stays else None


def episodes(journal: Iterable[EventEnvelope]) -> list[EpisodeView]:
    found: list[EpisodeView] = []
    for envelope in journal:
        payload = envelope.payload()
        if isinstance(payload, ev.Referred):
            found.append(EpisodeView(len(found) + 1, payload.referred_on))
            continue
        if found:
            _apply(found[-1], payload, envelope)
    return found


def _apply(episode: EpisodeView, payload: ev.Payload, envelope: EventEnvelope) -> None:
    stay = episode.open_stay
    match payload:
        case ev.Admitted():
            episode.decision = "admitted"
        case ev.AdmissionRefused():
            episode.decision = "refused"
        case ev.CaseManagerAssigned():
            episode.case_manager = (payload.case_manager_id, payload.case_manager_name)
        case ev.Closed():
            episode.closed_on = payload.closed_on
        case ev.PlanRevised():
            episode.plans.append(PlanView(payload, envelope.actor, envelope.occurred_at.date()))
        case ev.PlanValidated():
            for plan in episode.plans:
                if plan.plan.revision == payload.revision:
                    plan.validation = payload
        case ev.MemberJoined():
            episode.members.append(MembershipView(payload.member, payload.joined_on))
        case ev.MemberLeft():
            for membership in episode.members:
                if membership.member.member_id == payload.member_id and not membership.left_on:
                    membership.left_on = payload.left_on
        case ev.Hospitalised():
            episode.stays.append(StayView(
                len(episode.stays) + 1, payload.establishment, payload.ward, payload.kind,
                payload.admitted_at, admission_event=envelope.event_id,
                location_event=envelope.event_id))
        case ev.StayTransferred() if stay:
            stay.establishment, stay.ward = payload.establishment, payload.ward
            stay.location_event = envelope.event_id
        case ev.Discharged() if stay:
            stay.discharged_at, stay.destination = payload.discharged_at, payload.destination
            stay.discharge_event = envelope.event_id
        case _:
            _apply_hospital_feed(episode, payload, envelope.event_id)


def _apply_hospital_feed(episode: EpisodeView, payload: ev.Payload, event_id: UUID) -> None:
    """The facts only a hospital's ADT feed records: cancellations and corrections."""
    match payload:
        case AdmissionCancelled() if (stay := episode.open_stay):
            stay.cancelled = True
        case TransferCancelled() if (stay := episode.open_stay):
            stay.establishment, stay.ward = payload.establishment, payload.ward
            stay.location_event = event_id
        case DischargeCancelled() if episode.stays:
            last = episode.stays[-1]
            last.discharged_at = last.destination = last.discharge_event = None
            last.establishment, last.ward = payload.establishment, payload.ward
            last.location_event = event_id
        case MovementCorrected():
            for stay in episode.stays:
                _correct(stay, payload)


def _correct(stay: StayView, correction: MovementCorrected) -> None:
    """The corrected values of the movement the correction names, wherever in the stay."""
    told = correction.movement_event_id
    if told == stay.admission_event:
        stay.admitted_at = correction.at or stay.admitted_at
        stay.kind = correction.kind or stay.kind
    if told == stay.location_event:
        stay.establishment = correction.establishment or stay.establishment
        stay.ward = correction.ward or stay.ward
    if told == stay.discharge_event:
        stay.discharged_at = correction.at or stay.discharged_at
        stay.destination = correction.destination or stay.destination
