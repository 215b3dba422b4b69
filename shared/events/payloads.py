"""The payload of each pathway event type, version by version. Past tense names: they are facts.

A change that would break a consumer is a new class with a higher ``schema_version`` and an
upcaster for what was stored before; the name stays the same."""

from datetime import date, datetime
from typing import ClassVar, Literal
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
    Text,
    Value,
)


class Payload(Value):
    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def occurred_at_hint(self) -> datetime | None:
        """The real moment of the fact when the payload carries it (a hospital admission)."""
        return None


class Referred(Payload):
    """A professional sent a referral form (fiche d'orientation / FAMO)."""

    referred_on: date
    territory: NonEmpty
    referrer: Professional
    person: Person
    neuro_evolutive_disease: bool = False
    criteria: NationalCriteria
    consent: Consent
    context: Text = ""

    @model_validator(mode="after")
    def _public(self) -> "Referred":
        if self.person.birth_date > self.referred_on:
            raise ValueError("la date de naissance est postérieure à la date d'orientation")
        if self.person.age_on(self.referred_on) < 60 and not self.neuro_evolutive_disease:
            raise ValueError(
                "public non concerné : moins de 60 ans sans maladie neuro-évolutive"
            )
        return self


class Admitted(Payload):
    """The team decided to admit the person into case management."""

    decided_on: date
    notes: Text = ""


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


class PlanRevised(Payload):
    """A new revision of the service plan (PSI); the previous ones are kept in the journal."""

    revision: int = Field(ge=1)
    problems: list[Problem] = Field(min_length=1)
    summary: Text = ""


StayKind = Literal["emergency", "planned"]


class Hospitalised(Payload):
    establishment: NonEmpty
    ward: NonEmpty
    admitted_at: AwareDatetime
    kind: StayKind
    reason: Text = ""

    def occurred_at_hint(self) -> datetime | None:
        return self.admitted_at


DischargeDestination = Literal["home", "ehpad", "rehabilitation", "other_hospital", "death"]


class Discharged(Payload):
    discharged_at: AwareDatetime
    destination: DischargeDestination
    discharge_letter_received: bool

    def occurred_at_hint(self) -> datetime | None:
        return self.discharged_at


ClosureReason = Literal[
    "death", "establishment", "stabilisation", "moved_out", "refused_by_person", "other"
]


class Closed(Payload):
    closed_on: date
    reason_code: ClosureReason
    handed_over_to: NonEmpty | None = None
    comment: Text = ""

    @model_validator(mode="after")
    def _hand_over_named(self) -> "Closed":
        if self.reason_code == "stabilisation" and not self.handed_over_to:
            raise ValueError("une clôture pour stabilisation nomme le professionnel relais")
        return self


class Waitlisted(Payload):
    """Every case manager of the territory is full: the person waits for a place."""

    rank: int = Field(ge=1)
    since: date


class PlanValidated(Payload):
    """The médecin traitant validated a revision of the service plan."""

    revision: int = Field(ge=1)
    validated_by: NonEmpty
    validated_on: date


class MemberJoined(Payload):
    member: CareCircleMember
    joined_on: date


class MemberLeft(Payload):
    member_id: NonEmpty
    left_on: date
    reason: Text = ""


class StayTransferred(Payload):
    """The person moved from one establishment to another within the same stay."""

    establishment: NonEmpty
    ward: NonEmpty
    transferred_at: AwareDatetime

    def occurred_at_hint(self) -> datetime | None:
        return self.transferred_at


class DischargeLetterReceived(Payload):
    """The discharge letter (lettre de liaison) arrived after the discharge."""

    received_on: date


ContactKind = Literal["visit", "phone", "email", "meeting", "other"]
ContactWith = Literal["person", "family", "professional"]


class FollowUpNoted(Payload):
    kind: ContactKind
    with_whom: ContactWith
    contact_on: date
    summary: NonEmpty


DysfunctionCategory = Literal[
    "missing_resource", "poor_articulation", "unknown_services", "other"
]


class DysfunctionReported(Payload):
    category: DysfunctionCategory
    description: NonEmpty
    territory: NonEmpty


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
    alert_id: UUID
    resolution: Text = ""


PAYLOAD_TYPES: dict[str, type[Payload]] = {
    cls.type_name(): cls
    for cls in (
        Referred, Admitted, AdmissionRefused, CaseManagerAssigned, Waitlisted, Evaluated,
        PlanRevised, PlanValidated, MemberJoined, MemberLeft, Hospitalised, StayTransferred,
        Discharged, DischargeLetterReceived, FollowUpNoted, DysfunctionReported, AlertRaised,
        AlertAcknowledged, AlertResolved, Closed,
    )
}


# -- The hospitals' ADT feed (IHE PAM France): the facts only a hospital tells ------------------


class AdmissionCancelled(Payload):
    """The hospital cancelled an admission it had announced (ADT A11): the stay never was."""

    establishment: NonEmpty
    admitted_at: AwareDatetime
    cancelled_at: AwareDatetime

    def occurred_at_hint(self) -> datetime | None:
        return self.cancelled_at


class TransferCancelled(Payload):
    """The hospital cancelled a change of unit (ADT A12): the person is back in ``ward``."""

    establishment: NonEmpty
    ward: NonEmpty
    cancelled_at: AwareDatetime

    def occurred_at_hint(self) -> datetime | None:
        return self.cancelled_at


class DischargeCancelled(Payload):
    """The hospital cancelled a discharge (ADT A13): the stay goes on."""

    establishment: NonEmpty
    ward: NonEmpty
    admitted_at: AwareDatetime
    cancelled_at: AwareDatetime

    def occurred_at_hint(self) -> datetime | None:
        return self.cancelled_at


PAYLOAD_TYPES.update({cls.type_name(): cls
                      for cls in (AdmissionCancelled, TransferCancelled, DischargeCancelled)})
