"""The Pathway aggregate: the rules of the practice over one person's stream of events.

A stream holds successive episodes: referral → decision → (admitted → … → closed). A new
referral after a refusal or a closure opens the next episode in the same stream.
No I/O here; rules that depend on dates use the facts' own dates, not when they were typed,
and the moment of writing comes from the command's ``Meta``."""

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared import events as ev
from shared.events.payloads import (
    AdmissionCancelled,
    DischargeCancelled,
    TransferCancelled,
    ValidationMeans,
)
from shared.events.values import CareCircleMember, Person
from shared.pathway.commands import SYSTEM, Meta, Policy
from shared.pathway.dates import french, local_day, moment
from shared.pathway.errors import ImplausibleInputError, RuleBrokenError
from shared.pathway.events import EVENT_CLASSES, PathwayEvent, PathwayOpened, event_fields
from shared.pathway.followup import FollowUpState, begin, evolve
from shared.pathway.ruptures import CLEARABLE_RULES, INFORMATION_RULES

IDENTITY_TRAITS = ("ins", "family_name", "given_names", "birth_date", "sex")


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
    criteria_not_met: tuple[str, ...] = ()
    criteria_override: str | None = None
    last_fact_on: date | None = None
    territory: str = ""
    first_version: int = 0
    last_version: int = 0
    shared_with: frozenset[str] = frozenset()
    """Other territories the origin territory's coordinator shared this episode with."""

    @property
    def ended_on(self) -> date | None:
        return self.closed_on or (self.decided_on if self.decision == "refused" else None)


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
    resolved_by: str | None = None


@dataclass
class Stay:
    establishment: str
    ward: str
    admitted_at: AwareDatetime


@dataclass
class FollowUp:
    """The records of the episode; the follow-up state the rules read is ``Pathway.state``."""

    last_evaluation: ev.Evaluated | None = None
    last_discharge: ev.Discharged | None = None
    plans: dict[int, ev.PlanRevised] = field(default_factory=dict)
    plan_dates: dict[int, date] = field(default_factory=dict)
    validations: dict[int, ev.PlanValidated] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedValidation:
    """The GP's validation reached the case manager by letter, secure messaging or phone."""

    means: ValidationMeans
    received_on: date


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
        self.state = FollowUpState(pathway_id="", territory="", person_label="")
        self.alerts: dict[UUID, Alert] = {}
        self.fired_keys: set[str] = set()
        self.letter_received = False
        self.last_fact_event_id: UUID | None = None

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
        return self.state.next_evaluation_due(policy)

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.state != "resolved"]

    # -- intake -----------------------------------------------------------------------------

    @classmethod
    def open(cls, referral: ev.Referred, meta: Meta) -> "Pathway":
        _not_in_future(referral.referred_on, meta)
        return cls._create(PathwayOpened, id=uuid4(), **event_fields(referral, meta))

    def refer(self, referral: ev.Referred, meta: Meta) -> None:
        if self.status not in ENDED:
            raise RuleBrokenError(
                "pathway.already_open",
                "Cette personne a déjà un parcours en cours : une nouvelle orientation n'est "
                "possible qu'après la clôture ou le refus.",
                pathway_id=str(self.id),
            )
        self._require_same_identity(referral.person)
        ended_on = self.episodes[-1].ended_on
        self._dated(referral.referred_on, meta, (ended_on, "la fin de l'épisode précédent"))
        self._record(referral, meta)

    def share_episodes(self, shared: ev.EpisodesShared, meta: Meta) -> None:
        """The origin territory's coordinator shares its episodes with the territory the
        person moves to, with the person's consent."""
        if not any(e.territory == shared.from_territory for e in self.episodes):
            raise RuleBrokenError("sharing.no_episode",
                                  "Ce territoire n'a suivi aucun épisode de cette personne.")
        if shared.with_territory == shared.from_territory:
            raise RuleBrokenError("sharing.same_territory",
                                  "Les épisodes appartiennent déjà à ce territoire.")
        self._dated(shared.consent_given_on, meta)
        self._record(shared, meta)

    def correct_identity(self, correction: ev.IdentityCorrected, meta: Meta) -> None:
        self._dated(correction.birth_date, meta)
        self._record(correction, meta)

    def admit(self, decision: ev.Admitted, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._dated(decision.decided_on, meta, self._referral_bound())
        not_met = self.episodes[-1].criteria_not_met
        if not_met and not decision.criteria_override:
            raise RuleBrokenError(
                "criteria.not_met",
                "L'orientation ne remplit pas tous les critères nationaux : une admission "
                "malgré cela demande la justification de la commission (criteria_override).",
                criteria_not_met=list(not_met),
            )
        self._record(decision, meta)

    def refuse(self, decision: ev.AdmissionRefused, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._dated(decision.decided_on, meta, self._referral_bound())
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
        self._dated(evaluation.evaluated_on, meta, self._admission_bound())
        self._record(evaluation, meta)

    def revise_plan(self, plan: ev.PlanRevised, meta: Meta) -> None:
        self._require_active()
        if plan.revised_on is not None:
            self._dated(plan.revised_on, meta, self._admission_bound())
        if plan.revision != self.plan_revision + 1:
            raise RuleBrokenError(
                "plan.revision_out_of_sequence",
                f"La révision attendue du PSI est la n° {self.plan_revision + 1}.",
                expected_revision=self.plan_revision + 1,
            )
        self._record(plan, meta)

    def validate_plan(self, revision: int, validated_on: date, meta: Meta,
                      received: ReceivedValidation | None = None) -> None:
        """The GP validates, signed in themself; or the case manager records a validation
        received from the GP, with its means and the day it arrived."""
        self._require_active()
        if revision not in self.follow_up.plans:
            raise RuleBrokenError("plan.unknown_revision",
                                  f"Le PSI n'a pas de révision n° {revision}.")
        if revision in self.follow_up.validations:
            raise RuleBrokenError("plan.already_validated",
                                  f"La révision n° {revision} du PSI est déjà validée.")
        revised_on = self.follow_up.plan_dates.get(revision)
        self._dated(validated_on, meta, (revised_on, "la révision du PSI"))
        gp = self.attending_gp(validated_on)
        if gp is None:
            raise RuleBrokenError(
                "plan.no_attending_gp",
                "Le PSI est validé par le médecin traitant : ajoutez-le d'abord au cercle de "
                "soins.",
            )
        if received is None and meta.actor.id != gp.member.member_id:
            raise RuleBrokenError(
                "plan.validation_means_required",
                "Seul le médecin traitant valide lui-même le PSI. Si sa validation vous est "
                "parvenue, enregistrez-la comme reçue en précisant le moyen (courrier, "
                "messagerie sécurisée, téléphone) et la date de réception.",
            )
        if received is not None:
            self._dated(received.received_on, meta, (validated_on, "la date de validation"))
        self._record(ev.PlanValidated(
            revision=revision, validated_by=gp.member.name, validated_on=validated_on,
            validator_id=gp.member.member_id,
            means=received.means if received else "signed_in",
            received_on=received.received_on if received else None,
            recorded_by=meta.actor.id if received else None,
        ), meta)

    def join(self, joined: ev.MemberJoined, meta: Meta) -> None:
        self._require_not_ended()
        self._dated(joined.joined_on, meta, self._referral_bound())
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
        self._dated(left.left_on, meta, (current[0].joined_on, "son arrivée dans le cercle"))
        self._record(left, meta)

    def hospitalise(self, stay: ev.Hospitalised, meta: Meta) -> None:
        self._require_active()
        self._dated(stay.admitted_at, meta, self._admission_bound())
        if self.open_stay is not None:
            raise RuleBrokenError(
                "stay.already_open",
                "Une hospitalisation est déjà en cours : enregistrez d'abord la sortie.",
            )
        self._record(stay, meta)

    def transfer_stay(self, transfer: ev.StayTransferred, meta: Meta) -> None:
        stay = self._require_open_stay()
        self._dated(transfer.transferred_at, meta, (stay.admitted_at, "l'entrée à l'hôpital"))
        self._record(transfer, meta)

    def discharge(self, discharge: ev.Discharged, meta: Meta) -> None:
        stay = self._require_open_stay()
        self._dated(discharge.discharged_at, meta, (stay.admitted_at, "l'entrée à l'hôpital"))
        self._record(discharge, meta)

    def receive_discharge_letter(self, letter: ev.DischargeLetterReceived, meta: Meta) -> None:
        self._require_active()
        discharge = self.follow_up.last_discharge
        if discharge is None or discharge.discharge_letter_received or self.letter_received:
            raise RuleBrokenError("stay.no_letter_expected",
                                  "Aucune lettre de liaison n'est attendue pour ce parcours.")
        self._dated(letter.received_on, meta, (discharge.discharged_at, "la sortie"))
        self._record(letter, meta)

    def note(self, note: ev.FollowUpNoted, meta: Meta) -> None:
        self._require_active()
        self._dated(note.contact_on, meta, self._admission_bound())
        self._record(note, meta)

    def report_dysfunction(self, report: ev.DysfunctionReported, meta: Meta) -> None:
        self._require_active()
        if report.reported_on is not None:
            self._dated(report.reported_on, meta, self._admission_bound())
        self._record(report, meta)

    def close(self, closure: ev.Closed, meta: Meta) -> None:
        self._require_active()
        last = self.episodes[-1].last_fact_on
        self._dated(closure.closed_on, meta, (last, "le dernier fait enregistré de l'épisode"))
        self._record(closure, meta)

    # -- alerts -----------------------------------------------------------------------------

    def raise_alert(self, alert: ev.AlertRaised, meta: Meta, wanted: set[str]) -> bool:
        """Records the alert unless this occurrence already fired, or its condition cleared
        since the deadline was planned (``wanted``: the keys the rules call for now)."""
        if alert.dedup_key in self.fired_keys or self.status in ENDED:
            return False
        if alert.rule in CLEARABLE_RULES and alert.dedup_key not in wanted:
            return False
        self._record(alert, meta)
        return True

    def acknowledge_alert(self, alert_id: UUID, comment: str, meta: Meta) -> None:
        """Takes the alert in hand; an information alert (R1, R2) ends there."""
        alert = self._require_alert(alert_id)
        if alert.state != "open":
            raise RuleBrokenError("alert.not_open", "Cette alerte n'est plus ouverte.")
        self._record(ev.AlertAcknowledged(alert_id=alert_id, comment=comment), meta)
        if alert.raised.rule in INFORMATION_RULES:
            self._record(ev.AlertResolved(alert_id=alert_id, resolved_by=meta.actor.id,
                                          resolution="Information prise en compte."), meta)

    def resolve_alert(self, alert_id: UUID, comment: str, meta: Meta) -> None:
        """Closes an alert one has handled: acknowledged first, in the same call if need be."""
        alert = self._require_alert(alert_id)
        if alert.state == "resolved":
            raise RuleBrokenError("alert.already_resolved", "Cette alerte est déjà résolue.")
        if alert.state == "open":
            self.acknowledge_alert(alert_id, "", meta)
        if alert.state != "resolved":
            self._record(ev.AlertResolved(alert_id=alert_id, resolved_by=meta.actor.id,
                                          resolution=comment), meta)

    def resolve_cleared_alerts(self, wanted: set[str]) -> None:
        """Ends, in the journal, every alert whose condition the last facts cleared."""
        for alert in self.open_alerts():
            raised = alert.raised
            if raised.rule in CLEARABLE_RULES and raised.dedup_key not in wanted:
                self._record(ev.AlertResolved(
                    alert_id=raised.alert_id, resolved_by=SYSTEM.id,
                    cleared_by_event_id=self.last_fact_event_id,
                    resolution="Levée automatiquement : la situation a été régularisée.",
                ), Meta(actor=SYSTEM))

    # -- rules ------------------------------------------------------------------------------

    def _require_same_identity(self, person: Person) -> None:
        if self.person is None:
            return
        differ = [trait for trait in IDENTITY_TRAITS
                  if _comparable(getattr(person, trait)) != _comparable(getattr(self.person,
                                                                                   trait))]
        if differ:
            raise RuleBrokenError(
                "identity.mismatch",
                "Cette INS est déjà connue avec une autre identité : vérifiez les traits "
                "d'identité, ou demandez au coordinateur de corriger l'identité enregistrée.",
                pathway_id=str(self.id), differing_traits=differ,
            )

    def _referral_bound(self) -> tuple[date | None, str]:
        return self.episodes[-1].referred_on, "l'orientation"

    def _admission_bound(self) -> tuple[date | None, str]:
        return self.admitted_on, "l'admission en gestion de cas"

    def _dated(self, fact: date | datetime, meta: Meta,
               *bounds: tuple[date | datetime | None, str]) -> None:
        """A fact may be recorded late, never in the future nor before what it follows."""
        _not_in_future(fact, meta)
        for bound, what in bounds:
            if bound is not None and _before(fact, bound, meta.zone):
                day = local_day(bound, meta.zone)
                raise RuleBrokenError(
                    "date.out_of_order",
                    f"Cette date précède {what} ({french(day)}) : corrigez la date saisie.",
                    not_before=day.isoformat(),
                )

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
        if isinstance(payload, ev.Referred):
            self._begin_episode(payload, event.originator_version)
        else:
            evolve(self.state, payload, event.event_id, event.occurred_at, event.actor.id)
        if not isinstance(payload, ALERT_PAYLOADS):
            self.last_fact_event_id = event.event_id
            fact = payload.fact_date()
            if fact is not None:
                day = local_day(fact)
                last = self.episodes[-1].last_fact_on
                self.episodes[-1].last_fact_on = max(last, day) if last else day
        self.episodes[-1].last_version = event.originator_version
        match payload:
            case ev.EpisodesShared():
                for episode in self.episodes:
                    if episode.territory == payload.from_territory:
                        episode.shared_with = episode.shared_with | {payload.with_territory}
            case ev.IdentityCorrected() if self.person is not None:
                self.person = self.person.model_copy(update=payload.model_dump(
                    include={"family_name", "given_names", "birth_date", "sex"}))
            case ev.Admitted():
                self.status, self.admitted_on = Status.ACTIVE, payload.decided_on
                self._decide("admitted", payload.decided_on)
                self.episodes[-1].criteria_override = payload.criteria_override
            case ev.AdmissionRefused():
                self.status = Status.REFUSED
                self._decide("refused", payload.decided_on)
            case ev.CaseManagerAssigned():
                self.case_manager_id, self.waiting_rank = payload.case_manager_id, None
            case ev.Waitlisted():
                self.waiting_rank = payload.rank
            case ev.Evaluated():
                known = self.follow_up.last_evaluation
                if known is None or payload.evaluated_on >= known.evaluated_on:
                    self.follow_up.last_evaluation = payload
            case ev.PlanRevised():
                self.follow_up.plans[payload.revision] = payload
                self.follow_up.plan_dates[payload.revision] = local_day(event.occurred_at)
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
            case ev.AlertRaised():
                self.alerts[payload.alert_id] = Alert(payload)
                self.fired_keys.add(payload.dedup_key)
            case ev.AlertAcknowledged():
                self.alerts[payload.alert_id].state = "acknowledged"
                self.alerts[payload.alert_id].acknowledged_by = event.actor.id
            case ev.AlertResolved():
                self.alerts[payload.alert_id].state = "resolved"
                self.alerts[payload.alert_id].resolved_by = payload.resolved_by or event.actor.id
            case ev.Closed():
                self.status, self.open_stay = Status.CLOSED, None
                self.episodes[-1].closed_on = payload.closed_on
                self.episodes[-1].closure_reason = payload.reason_code
            case _:
                self._when_hospital_feed(payload)

    def _begin_episode(self, referral: ev.Referred, version: int) -> None:
        if self.person is None:
            self.person = referral.person
        else:  # the traits stay those of the first referral; where the person lives may change
            self.person = self.person.model_copy(update={
                "commune": referral.person.commune,
                "attending_gp": referral.person.attending_gp or self.person.attending_gp})
        self.territory = referral.territory
        self.status = Status.AWAITING_DECISION
        self.episodes.append(Episode(
            len(self.episodes) + 1, referral.referred_on, referral.referrer.name,
            referral.referrer.id, criteria_not_met=tuple(referral.criteria.not_met()),
            territory=referral.territory, first_version=version))
        self.admitted_on = self.case_manager_id = self.waiting_rank = None
        self.open_stay = None
        self.care_circle, self.follow_up, self.alerts = [], FollowUp(), {}
        self.state = begin(self.id, referral)
        self.state.person_label = f"{self.person.given_names} {self.person.family_name}"

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


ALERT_PAYLOADS = (ev.AlertRaised, ev.AlertAcknowledged, ev.AlertResolved)


def _comparable(value: object) -> str:
    """Traits compared as people read them: case, accents typed or not and spacing aside."""
    text = " ".join(str(value).split()).casefold()
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c))


def _before(fact: date | datetime, bound: date | datetime, zone: ZoneInfo) -> bool:
    """Two moments compare as moments; a day compares with the other fact's day."""
    if isinstance(fact, datetime) and isinstance(bound, datetime):
        return fact < bound
    return local_day(fact, zone) < local_day(bound, zone)


def _not_in_future(fact: date | datetime, meta: Meta) -> None:
    limit = meta.now + meta.future_tolerance
    if moment(fact, meta.zone) > limit:
        raise ImplausibleInputError(
            "date.in_future",
            f"Cette date est dans le futur (au-delà du {french(local_day(limit, meta.zone))}) : "
            "corrigez la date saisie.",
            latest=local_day(limit, meta.zone).isoformat(),
        )


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
