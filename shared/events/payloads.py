"""The payload of each pathway event type, version by version. Past tense names: they are facts.

A change that would break a consumer is a new class with a higher ``schema_version`` and an
upcaster for what was stored before; the name stays the same.

Over 300 lines on purpose: the whole published contract of the pathway stream in one file,
one short class per event type."""

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from shared.events.values import (
    CareCircleMember,
    Consent,
    Domains,
    NationalCriteria,
    NonEmpty,
    Orientation,
    Person,
    Problem,
    Professional,
    Recipient,
    Scales,
    SubmittedIdentity,
    Text,
    Value,
)

MAX_AGE = 120
IdentityTrait = Literal["family_name", "given_names", "birth_date", "sex"]


class Payload(Value):
    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def fact_date(self) -> date | datetime | None:
        """When the fact happened, as the payload gives it: a day, or a day and a time.
        None for facts that happen when they are written (an alert raised, acknowledged)."""
        return None


class Referred(Payload):
    """A professional sent a referral form (fiche d'orientation / FAMO). ``referral_id`` is
    the one its sender was given to follow it (``GET /referrals/{id}``); referrals stored
    before it was given have none."""

    referred_on: date
    territory: NonEmpty
    referrer: Professional
    person: Person
    neuro_evolutive_disease: bool = False
    criteria: NationalCriteria
    consent: Consent
    context: Text = ""
    referral_id: UUID | None = None

    def fact_date(self) -> date:
        return self.referred_on

    @model_validator(mode="after")
    def _public(self) -> "Referred":
        if self.person.birth_date > self.referred_on:
            raise ValueError("la date de naissance est postérieure à la date d'orientation")
        if self.person.age_on(self.referred_on) > MAX_AGE:
            raise ValueError(f"date de naissance invraisemblable : plus de {MAX_AGE} ans à la "
                             "date d'orientation")
        if self.person.age_on(self.referred_on) < 60 and not self.neuro_evolutive_disease:
            raise ValueError(
                "public non concerné : moins de 60 ans sans maladie neuro-évolutive"
            )
        return self


class Admitted(Payload):
    """The team decided to admit the person into case management. ``criteria_override`` is
    the team's justification when a national criterion was not met."""

    decided_on: date
    notes: Text = ""
    criteria_override: NonEmpty | None = None

    def fact_date(self) -> date:
        return self.decided_on


RefusalReason = Literal[
    "criteria_not_met", "out_of_territory", "other_service_better_suited", "person_declined",
    "other",
]


class AdmissionRefused(Payload):
    """The team refused; the situation is oriented elsewhere."""

    decided_on: date
    reason_code: RefusalReason
    reason: NonEmpty
    orientation: Orientation

    def fact_date(self) -> date:
        return self.decided_on


class CaseManagerAssigned(Payload):
    case_manager_id: NonEmpty
    case_manager_name: NonEmpty
    reason: Text = ""


EvaluationKind = Literal["initial", "periodic", "change", "post_discharge"]


class Evaluated(Payload):
    kind: EvaluationKind
    evaluated_on: date
    domains: Domains
    scales: Scales = Scales()
    summary: Text = ""

    def fact_date(self) -> date:
        return self.evaluated_on


class PlanRevised(Payload):
    """A new revision of the service plan (PSI); the previous ones are kept in the journal."""

    revision: int = Field(ge=1)
    problems: list[Problem] = Field(min_length=1)
    summary: Text = ""
    revised_on: date | None = None  # absent from revisions stored before it was asked for

    def fact_date(self) -> date | None:
        return self.revised_on


StayKind = Literal["emergency", "planned"]


class Hospitalised(Payload):
    establishment: NonEmpty
    ward: NonEmpty
    admitted_at: AwareDatetime
    kind: StayKind
    reason: Text = ""

    def fact_date(self) -> datetime:
        return self.admitted_at


DischargeDestination = Literal["home", "ehpad", "rehabilitation", "other_hospital", "death"]


class Discharged(Payload):
    discharged_at: AwareDatetime
    destination: DischargeDestination
    discharge_letter_received: bool

    def fact_date(self) -> datetime:
        return self.discharged_at


ClosureReason = Literal[
    "death", "establishment", "stabilisation", "moved_out", "refused_by_person", "other"
]


class Closed(Payload):
    closed_on: date
    reason_code: ClosureReason
    handed_over_to: NonEmpty | None = None
    comment: Text = ""

    def fact_date(self) -> date:
        return self.closed_on

    @model_validator(mode="after")
    def _hand_over_named(self) -> "Closed":
        if self.reason_code == "stabilisation" and not self.handed_over_to:
            raise ValueError("une clôture pour stabilisation nomme le professionnel relais")
        return self


class Waitlisted(Payload):
    """Every case manager of the territory is full: the person waits for a place."""

    rank: int = Field(ge=1)
    since: date

    def fact_date(self) -> date:
        return self.since


ValidationMeans = Literal["signed_in", "courrier", "messagerie_securisee", "telephone"]


class PlanValidated(Payload):
    """The médecin traitant validated a revision of the service plan: signed in themself
    (``signed_in``), or the validation was received by another means and recorded by the case
    manager (``recorded_by``). Validations stored before the means were asked for have none."""

    revision: int = Field(ge=1)
    validated_by: NonEmpty
    validated_on: date
    validator_id: NonEmpty | None = None
    means: ValidationMeans | None = None
    received_on: date | None = None
    recorded_by: NonEmpty | None = None

    def fact_date(self) -> date:
        return self.validated_on


class MemberJoined(Payload):
    member: CareCircleMember
    joined_on: date

    def fact_date(self) -> date:
        return self.joined_on


class MemberLeft(Payload):
    member_id: NonEmpty
    left_on: date
    reason: Text = ""

    def fact_date(self) -> date:
        return self.left_on


class StayTransferred(Payload):
    """The person moved from one establishment to another within the same stay."""

    establishment: NonEmpty
    ward: NonEmpty
    transferred_at: AwareDatetime

    def fact_date(self) -> datetime:
        return self.transferred_at


class DischargeLetterReceived(Payload):
    """The discharge letter (lettre de liaison) arrived after the discharge."""

    received_on: date

    def fact_date(self) -> date:
        return self.received_on


ContactKind = Literal["visit", "phone", "email", "meeting", "other"]
ContactWith = Literal["person", "family", "professional"]


class FollowUpNoted(Payload):
    kind: ContactKind
    with_whom: ContactWith
    contact_on: date
    summary: NonEmpty

    def fact_date(self) -> date:
        return self.contact_on


DysfunctionCategory = Literal[
    "missing_resource", "poor_articulation", "unknown_services", "other"
]


class DysfunctionReported(Payload):
    category: DysfunctionCategory
    description: NonEmpty
    territory: NonEmpty
    reported_on: date | None = None  # absent from reports stored before it was asked for

    def fact_date(self) -> date | None:
        return self.reported_on


RuleCode = Literal["R1", "R2", "R3", "R4", "R5", "R6", "R7"]
Severity = Literal["info", "warning", "critical"]


class AlertRaised(Payload):
    """A rupture rule fired. ``dedup_key`` names the occurrence: it fires once."""

    alert_id: UUID
    dedup_key: NonEmpty
    rule: RuleCode
    severity: Severity
    title: NonEmpty
    message: Text
    recipients: list[Recipient] = Field(min_length=1)
    due_at: AwareDatetime


class AlertAcknowledged(Payload):
    alert_id: UUID
    comment: Text = ""


class AlertResolved(Payload):
    """The alert ended: its condition cleared (``resolved_by`` "system", with the id of the
    event that cleared it), or a professional who had acknowledged it closed it."""

    alert_id: UUID
    resolution: Text = ""
    resolved_by: NonEmpty | None = None
    cleared_by_event_id: UUID | None = None


class EpisodesShared(Payload):
    """The person moves to another territory: the coordinator of the territory that followed
    them shares its episodes with the new one, with the person's consent. Without it, each
    territory reads only its own episodes."""

    from_territory: NonEmpty
    with_territory: NonEmpty
    consent_given_on: date


class IdentityCorrected(Payload):
    """A coordinator corrected the person's identity traits set by the first referral."""

    family_name: NonEmpty
    given_names: NonEmpty
    birth_date: date
    sex: Literal["F", "M", "X"]
    reason: NonEmpty


RepeatReason = Literal["already_followed", "identity_differs"]


class ReferralReceivedAgain(Payload):
    """A referring professional sent a referral for a person this pathway follows
    (``already_followed``: an episode is open, or the referral is dated before the last one
    ended), or for its INS with identity traits that differ from the file's
    (``identity_differs``). The sender was answered as for any referral, since whether a person
    is known is not theirs to learn; the coordination resolves it. It changes neither the
    episode, nor its dates, nor its alerts. ``identity``: the traits as the sender typed them,
    for the coordinator to check (another person's, maybe, when they differ)."""

    referral_id: UUID
    referrer: Professional
    referred_on: date
    territory: NonEmpty
    """The territory the referral was sent to."""
    identity: SubmittedIdentity
    reason: RepeatReason
    differing_traits: list[IdentityTrait] = Field(default_factory=list)


RepeatOutcome = Literal["joined", "declined"]


class RepeatReferralResolved(Payload):
    """The territory's coordinator resolved a repeat referral: ``joined`` to the pathway in
    progress, or ``declined``."""

    referral_id: UUID
    outcome: RepeatOutcome
    resolved_by: NonEmpty
    comment: Text = ""


PAYLOAD_TYPES: dict[str, type[Payload]] = {
    cls.type_name(): cls
    for cls in (
        Referred, Admitted, AdmissionRefused, CaseManagerAssigned, Waitlisted, Evaluated,
        PlanRevised, PlanValidated, MemberJoined, MemberLeft, Hospitalised, StayTransferred,
        Discharged, DischargeLetterReceived, FollowUpNoted, DysfunctionReported, AlertRaised,
        AlertAcknowledged, AlertResolved, Closed, IdentityCorrected, EpisodesShared,
        ReferralReceivedAgain, RepeatReferralResolved,
    )
}


# -- The hospitals' ADT feed (IHE PAM France): the facts only a hospital tells ------------------


class AdmissionCancelled(Payload):
    """The hospital cancelled an admission it had announced (ADT A11): the stay never was."""

    establishment: NonEmpty
    admitted_at: AwareDatetime
    cancelled_at: AwareDatetime

    def fact_date(self) -> datetime:
        return self.cancelled_at


class TransferCancelled(Payload):
    """The hospital cancelled a change of unit (ADT A12): the person is back in ``ward``."""

    establishment: NonEmpty
    ward: NonEmpty
    cancelled_at: AwareDatetime

    def fact_date(self) -> datetime:
        return self.cancelled_at


class DischargeCancelled(Payload):
    """The hospital cancelled a discharge (ADT A13): the stay goes on."""

    establishment: NonEmpty
    ward: NonEmpty
    admitted_at: AwareDatetime
    cancelled_at: AwareDatetime

    def fact_date(self) -> datetime:
        return self.cancelled_at


MovementKind = Literal["admission", "transfer", "discharge"]


class MovementCorrected(Payload):
    """The hospital corrected a movement it had told (PAM.fr ZBE-4 ``UPDATE``, or ADT A08 for
    the stay in progress). The movement's own event stays as it was stored: this fact names it
    (``movement_event_id``) and gives its corrected values; a value left out is unchanged.
    ``movement_id`` is the hospital's ZBE-1, absent for an A08."""

    movement_event_id: UUID
    movement: MovementKind
    movement_id: NonEmpty | None = None
    at: AwareDatetime | None = None
    establishment: NonEmpty | None = None
    ward: NonEmpty | None = None
    kind: StayKind | None = None
    destination: DischargeDestination | None = None

    @model_validator(mode="after")
    def _corrects_something(self) -> "MovementCorrected":
        if self.kind is not None and self.movement != "admission":
            raise ValueError("seule une admission a un type de séjour à corriger")
        if self.destination is not None and self.movement != "discharge":
            raise ValueError("seule une sortie a une destination à corriger")
        if self.movement == "discharge" and (self.establishment or self.ward):
            raise ValueError("une sortie n'a pas d'unité à corriger")
        if all(value is None for value in (self.at, self.establishment, self.ward, self.kind,
                                           self.destination)):
            raise ValueError("une correction donne au moins une valeur corrigée")
        return self


class IdentityQualified(Payload):
    """A hospital holding this person's identity as qualified (PAM.fr PID-32 ``VALI``, with the
    INS) sent the INS Parcours holds with the same identity traits: Parcours's identity is that
    qualified identity. Recorded once, only when every trait agrees; a coordinator's later
    correction of the identity ends it (the corrected traits were not the ones qualified)."""

    qualified_by: NonEmpty
    """The sending facility, "<MSH-3>^<MSH-4>"."""


class IdentityVigilanceRaised(Payload):
    """A known hospital sent a movement for the INS Parcours follows with identity traits that
    contradict the file's (an identity-vigilance incident): the movement was not applied, the
    hospital was answered AE, and the case manager and the coordinator have it to check with
    the hospital's identity-vigilance cell. Which traits differ, never the hospital's values:
    they may be another person's."""

    vigilance_id: UUID
    sender: NonEmpty
    """The sending facility, "<MSH-3>^<MSH-4>"."""
    establishment: NonEmpty
    control_id: NonEmpty
    """MSH-10 of the message, for the hospital to find it."""
    trigger: Annotated[str, Field(max_length=8)] = ""
    """MSH-9.2, e.g. ``A03``."""
    differing_traits: Annotated[list[IdentityTrait], Field(min_length=1)]


class IdentityVigilanceResolved(Payload):
    """A professional checked the incident with the hospital and marked it resolved."""

    vigilance_id: UUID
    resolved_by: NonEmpty
    comment: Text = ""


PAYLOAD_TYPES.update({cls.type_name(): cls
                      for cls in (AdmissionCancelled, TransferCancelled, DischargeCancelled,
                                  MovementCorrected, IdentityQualified,
                                  IdentityVigilanceRaised, IdentityVigilanceResolved)})
