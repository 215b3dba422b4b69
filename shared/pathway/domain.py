"""The Pathway aggregate: the rules of the practice over one person's stream of events.

A stream holds successive episodes: referral → decision → (admitted → … → closed). A new
referral after a refusal or a closure opens the next episode in the same stream.
No I/O here; rules that depend on dates use the facts' own dates, not when they were typed."""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared import events as ev
from shared.events.payloads import AdmissionCancelled, DischargeCancelled, TransferCancelled
from shared.events.values import CareCircleMember, Person
from shared.pathway.commands import Meta, Policy
from shared.pathway.errors import RuleBrokenError
from shared.pathway.events import EVENT_CLASSES, PathwayEvent, PathwayOpened, event_fields


class Status(StrEnum):
    AWAITING_DECISION = "awaiting_decision"
    ACTIVE = "active"
    REFUSED = "refused"
    CLOSED = "closed"


ENDED = (Status.REFUSED, Status.CLOSED)


@dataclass
class Episode:
    number: int
    referred_on: date
    referrer: str
    referrer_id: str
    decision: str | None = None
    decided_on: date | None = None
    closed_on: date | None = None
    closure_reason: str | None = None


@dataclass
class Membership:
    member: CareCircleMember
    joined_on: date
    left_on: date | None = None

    def active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


@dataclass
class Alert:
    raised: ev.AlertRaised
    state: str = "open"
    acknowledged_by: str | None = None


@dataclass
class Stay:
    establishment: str
    ward: str
    admitted_at: AwareDatetime


@dataclass
class FollowUp:
    last_evaluation: ev.Evaluated | None = None
    last_discharge: ev.Discharged | None = None
    last_contact_on: date | None = None
    plans: dict[int, ev.PlanRevised] = field(default_factory=dict)
    validations: dict[int, ev.PlanValidated] = field(default_factory=dict)


class Pathway(BaseAggregate[UUID]):
    def __init__(self) -> None:
        self.person: Person | None = None
        self.territory = ""
        self.status = Status.AWAITING_DECISION
        self.episodes: list[Episode] = []
        self.admitted_on: date | None = None
        self.case_manager_id: str | None = None
        self.waiting_rank: int | None = None
        self.open_stay: Stay | None = None
        self.care_circle: list[Membership] = []
        self.follow_up = FollowUp()
        self.alerts: dict[UUID, Alert] = {}
        self.fired_keys: set[str] = set()
        self.letter_received = False

    @property
    def episode(self) -> int:
        return len(self.episodes)

    @property
    def plan_revision(self) -> int:
        return max(self.follow_up.plans, default=0)

    def active_members(self, day: date) -> list[Membership]:
        return [m for m in self.care_circle if m.active_on(day)]

    def attending_gp(self, day: date) -> Membership | None:
        gps = [m for m in self.active_members(day) if m.member.role == "attending_gp"]
        return gps[0] if gps else None

    def next_evaluation_due(self, policy: Policy) -> date | None:
        if self.status is not Status.ACTIVE or self.admitted_on is None:
            return None
        last, discharge = self.follow_up.last_evaluation, self.follow_up.last_discharge
        home = discharge.discharged_at.date() if discharge and discharge.destination == "home" \
            else None
        return policy.next_evaluation_due(self.admitted_on, last.evaluated_on if last else None,
                                          home)

    # -- intake -----------------------------------------------------------------------------

    @classmethod
    def open(cls, referral: ev.Referred, meta: Meta) -> "Pathway":
        return cls._create(PathwayOpened, id=uuid4(), **event_fields(referral, meta))

    def refer(self, referral: ev.Referred, meta: Meta) -> None:
        if self.status not in ENDED:
            raise RuleBrokenError(
                "pathway.already_open",
                "Cette personne a déjà un parcours en cours : une nouvelle orientation n'est "
                "possible qu'après la clôture ou le refus.",
                pathway_id=str(self.id),
            )
        self._record(referral, meta)

    def admit(self, decision: ev.Admitted, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._record(decision, meta)

    def refuse(self, decision: ev.AdmissionRefused, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._record(decision, meta)

    def assign(self, assignment: ev.CaseManagerAssigned, meta: Meta) -> None:
        self._require_active()
        if assignment.case_manager_id == self.case_manager_id:
            raise RuleBrokenError(
                "assignment.unchanged", "Ce gestionnaire de cas suit déjà cette personne."
            )
        self._record(assignment, meta)

    def wait_for_place(self, waiting: ev.Waitlisted, meta: Meta) -> None:
        self._require_active()
        self._record(waiting, meta)

    # -- case file --------------------------------------------------------------------------

    def evaluate(self, evaluation: ev.Evaluated, meta: Meta) -> None:
        self._require_active()
        self._record(evaluation, meta)

    def revise_plan(self, plan: ev.PlanRevised, meta: Meta) -> None:
        self._require_active()
        if plan.revision != self.plan_revision + 1:
            raise RuleBrokenError(
                "plan.revision_out_of_sequence",
                f"La révision attendue du PSI est la n° {self.plan_revision + 1}.",
                expected_revision=self.plan_revision + 1,
            )
        self._record(plan, meta)

    def validate_plan(self, revision: int, validated_on: date, meta: Meta) -> None:
        self._require_active()
        if revision not in self.follow_up.plans:
            raise RuleBrokenError("plan.unknown_revision",
                                  f"Le PSI n'a pas de révision n° {revision}.")
        if revision in self.follow_up.validations:
            raise RuleBrokenError("plan.already_validated",
                                  f"La révision n° {revision} du PSI est déjà validée.")
        gp = self.attending_gp(validated_on)
        if gp is None:
            raise RuleBrokenError(
                "plan.no_attending_gp",
                "Le PSI est validé par le médecin traitant : ajoutez-le d'abord au cercle de "
                "soins.",
            )
        self._record(ev.PlanValidated(revision=revision, validated_by=gp.member.name,
                                      validated_on=validated_on), meta)

    def join(self, joined: ev.MemberJoined, meta: Meta) -> None:
        self._require_not_ended()
        # A membership runs until its departure: a new one may not overlap any still running
        # on or after the day it starts.
        overlapping = [m for m in self.care_circle
                       if m.left_on is None or m.left_on > joined.joined_on]
        if any(m.member.member_id == joined.member.member_id for m in overlapping):
            raise RuleBrokenError("care_circle.already_member",
                                  "Ce professionnel fait déjà partie du cercle de soins.")
        if joined.member.role == "attending_gp" and any(
            m.member.role == "attending_gp" for m in overlapping
        ):
            raise RuleBrokenError(
                "care_circle.attending_gp_present",
                "Le cercle de soins a déjà un médecin traitant : enregistrez d'abord son départ.",
            )
        self._record(joined, meta)

    def leave(self, left: ev.MemberLeft, meta: Meta) -> None:
        self._require_not_ended()
        current = [m for m in self.care_circle
                   if m.member.member_id == left.member_id and m.left_on is None]
        if not current:
            raise RuleBrokenError("care_circle.not_member",
                                  "Ce professionnel ne fait pas partie du cercle de soins.")
        if left.left_on < current[0].joined_on:
            raise RuleBrokenError("care_circle.leave_before_join",
                                  "La date de départ précède la date d'arrivée.")
        self._record(left, meta)

    def hospitalise(self, stay: ev.Hospitalised, meta: Meta) -> None:
        self._require_active()
        if self.open_stay is not None:
            raise RuleBrokenError(
                "stay.already_open",
                "Une hospitalisation est déjà en cours : enregistrez d'abord la sortie.",
            )
        self._record(stay, meta)

    def transfer_stay(self, transfer: ev.StayTransferred, meta: Meta) -> None:
        stay = self._require_open_stay()
        if transfer.transferred_at < stay.admitted_at:
            raise RuleBrokenError("stay.dates_inconsistent",
                                  "Le transfert précède l'entrée à l'hôpital.")
        self._record(transfer, meta)

    def discharge(self, discharge: ev.Discharged, meta: Meta) -> None:
        stay = self._require_open_stay()
        if discharge.discharged_at < stay.admitted_at:
            raise RuleBrokenError(
                "stay.discharge_before_admission",
                "La date de sortie précède la date d'entrée à l'hôpital.",
            )
        self._record(discharge, meta)

    def receive_discharge_letter(self, letter: ev.DischargeLetterReceived, meta: Meta) -> None:
        self._require_active()
        discharge = self.follow_up.last_discharge
        if discharge is None or discharge.discharge_letter_received or self.letter_received:
            raise RuleBrokenError("stay.no_letter_expected",
                                  "Aucune lettre de liaison n'est attendue pour ce parcours.")
        if letter.received_on < discharge.discharged_at.date():
            raise RuleBrokenError("stay.dates_inconsistent",
                                  "La lettre de liaison ne peut précéder la sortie.")
        self._record(letter, meta)

    def note(self, note: ev.FollowUpNoted, meta: Meta) -> None:
        self._require_active()
        self._record(note, meta)

    def report_dysfunction(self, report: ev.DysfunctionReported, meta: Meta) -> None:
        self._require_active()
        self._record(report, meta)

    def close(self, closure: ev.Closed, meta: Meta) -> None:
        self._require_active()
        self._record(closure, meta)

    # -- alerts -----------------------------------------------------------------------------

    def raise_alert(self, alert: ev.AlertRaised, meta: Meta) -> bool:
        """Records the alert unless this occurrence already fired; says whether it did."""
        if alert.dedup_key in self.fired_keys or self.status in ENDED:
            return False
        self._record(alert, meta)
        return True

    def acknowledge_alert(self, ack: ev.AlertAcknowledged, meta: Meta) -> None:
        if self._require_alert(ack.alert_id).state != "open":
            raise RuleBrokenError("alert.not_open", "Cette alerte n'est plus ouverte.")
        self._record(ack, meta)

    def resolve_alert(self, resolution: ev.AlertResolved, meta: Meta) -> None:
        if self._require_alert(resolution.alert_id).state == "resolved":
            raise RuleBrokenError("alert.already_resolved", "Cette alerte est déjà résolue.")
        self._record(resolution, meta)

    # -- rules ------------------------------------------------------------------------------

    def _require_awaiting_decision(self) -> None:
        self._require_not_ended()
        if self.status is not Status.AWAITING_DECISION:
            raise RuleBrokenError(
                "decision.already_made",
                "La décision d'entrée a déjà été prise pour cet épisode.",
            )

    def _require_active(self) -> None:
        self._require_not_ended()
        if self.status is not Status.ACTIVE:
            raise RuleBrokenError(
                "pathway.not_admitted",
                "La personne n'est pas encore admise en gestion de cas.",
            )

    def _require_not_ended(self) -> None:
        if self.status is Status.CLOSED:
            raise RuleBrokenError(
                "episode.closed",
                "Cet épisode est clos : plus aucun événement ne peut y être ajouté.",
            )
        if self.status is Status.REFUSED:
            raise RuleBrokenError(
                "episode.refused",
                "L'entrée a été refusée pour cet épisode : une nouvelle orientation est "
                "nécessaire.",
            )

    def _require_open_stay(self) -> Stay:
        self._require_active()
        if self.open_stay is None:
            raise RuleBrokenError(
                "stay.not_open", "Aucune hospitalisation en cours pour cette personne."
            )
        return self.open_stay

    def _require_alert(self, alert_id: UUID) -> Alert:
        self._require_not_ended()  # an ended episode's alerts end with it
        if alert_id not in self.alerts:
            raise RuleBrokenError("alert.unknown", "Alerte inconnue pour ce parcours.")
        return self.alerts[alert_id]

    def _record(self, payload: ev.Payload, meta: Meta) -> None:
        self.trigger_event(EVENT_CLASSES[payload.type_name()], **event_fields(payload, meta))

    # -- state changes ----------------------------------------------------------------------

    def when(self, event: PathwayEvent) -> None:
        payload = event.data
        match payload:
            case ev.Referred():
                self.person, self.territory = payload.person, payload.territory
                self.status = Status.AWAITING_DECISION
                self.episodes.append(Episode(len(self.episodes) + 1, payload.referred_on,
                                             payload.referrer.name, payload.referrer.id))
                self.admitted_on = self.case_manager_id = self.waiting_rank = None
                self.open_stay = None
                self.care_circle, self.follow_up, self.alerts = [], FollowUp(), {}
            case ev.Admitted():
                self.status, self.admitted_on = Status.ACTIVE, payload.decided_on
                self._decide("admitted", payload.decided_on)
            case ev.AdmissionRefused():
                self.status = Status.REFUSED
                self._decide("refused", payload.decided_on)
            case ev.CaseManagerAssigned():
                self.case_manager_id, self.waiting_rank = payload.case_manager_id, None
            case ev.Waitlisted():
                self.waiting_rank = payload.rank
            case ev.Evaluated():
                self.follow_up.last_evaluation = payload
            case ev.PlanRevised():
                self.follow_up.plans[payload.revision] = payload
            case ev.PlanValidated():
                self.follow_up.validations[payload.revision] = payload
            case ev.MemberJoined():
                self.care_circle.append(Membership(payload.member, payload.joined_on))
            case ev.MemberLeft():
                for membership in self.care_circle:
                    if membership.member.member_id == payload.member_id and not membership.left_on:
                        membership.left_on = payload.left_on
            case ev.Hospitalised():
                self.open_stay = Stay(payload.establishment, payload.ward, payload.admitted_at)
            case ev.StayTransferred() if self.open_stay:
                self.open_stay.establishment, self.open_stay.ward = (payload.establishment,
                                                                     payload.ward)
            case ev.Discharged():
                self.open_stay, self.follow_up.last_discharge = None, payload
                self.letter_received = payload.discharge_letter_received
            case ev.DischargeLetterReceived():
                self.letter_received = True
            case ev.FollowUpNoted():
                last = self.follow_up.last_contact_on
                self.follow_up.last_contact_on = max(last or payload.contact_on,
                                                     payload.contact_on)
            case ev.AlertRaised():
                self.alerts[payload.alert_id] = Alert(payload)
                self.fired_keys.add(payload.dedup_key)
            case ev.AlertAcknowledged():
                self.alerts[payload.alert_id].state = "acknowledged"
                self.alerts[payload.alert_id].acknowledged_by = event.actor.id
            case ev.AlertResolved():
                self.alerts[payload.alert_id].state = "resolved"
            case ev.Closed():
                self.status, self.open_stay = Status.CLOSED, None
                self.episodes[-1].closed_on = payload.closed_on
                self.episodes[-1].closure_reason = payload.reason_code
            case _:
                self._when_hospital_feed(payload)

    def _decide(self, decision: str, decided_on: date) -> None:
        self.episodes[-1].decision, self.episodes[-1].decided_on = decision, decided_on

    # -- the hospitals' ADT feed (IHE PAM France) -------------------------------------------

    def cancel_admission(self, cancelled: AdmissionCancelled, meta: Meta) -> None:
        """The stay never was: it ends, and the alert it raised resolves as cancelled."""
        stay = self._require_open_stay()
        self._record(cancelled, meta)
        for alert in list(self.alerts.values()):
            # R1 falls due at the admission itself: that tells this stay's alert apart.
            if alert.raised.rule == "R1" and alert.state != "resolved" \
                    and alert.raised.due_at == stay.admitted_at:
                self._record(ev.AlertResolved(
                    alert_id=alert.raised.alert_id,
                    resolution="Hospitalisation annulée par l'établissement."), meta)

    def cancel_transfer(self, cancelled: TransferCancelled, meta: Meta) -> None:
        self._require_open_stay()
        self._record(cancelled, meta)

    def cancel_discharge(self, cancelled: DischargeCancelled, meta: Meta) -> None:
        self._require_active()
        if self.open_stay is not None or self.follow_up.last_discharge is None:
            raise RuleBrokenError("stay.no_discharge_to_cancel",
                                  "Aucune sortie d'hospitalisation à annuler.")
        self._record(cancelled, meta)

    def _when_hospital_feed(self, payload: ev.Payload) -> None:
        match payload:
            case AdmissionCancelled():
                self.open_stay = None
            case TransferCancelled() if self.open_stay:
                self.open_stay.establishment = payload.establishment
                self.open_stay.ward = payload.ward
            case DischargeCancelled():
                self.open_stay = Stay(payload.establishment, payload.ward, payload.admitted_at)
                self.follow_up.last_discharge = None


class PersonIndexed(BaseModel, CanInitAggregate[UUID]):
    """Records which stream belongs to a person, so that pathway ids stay random."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    originator_topic: str
    pathway_id: UUID


class PersonIndex(BaseAggregate[UUID]):
    NAMESPACE: ClassVar[UUID] = uuid5(NAMESPACE_URL, "urn:parcours:person-index")

    def __init__(self, pathway_id: UUID) -> None:
        self.pathway_id = pathway_id

    @classmethod
    def id_for(cls, ins: str) -> UUID:
        return uuid5(cls.NAMESPACE, ins)

    @classmethod
    def create(cls, ins: str, pathway_id: UUID) -> "PersonIndex":
        return cls._create(PersonIndexed, id=cls.id_for(ins), pathway_id=pathway_id)
