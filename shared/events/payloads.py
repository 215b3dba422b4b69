"""The payload of each pathway event type, version by version. Past tense names: they are facts.

A change that would break a consumer is a new class with a higher ``schema_version`` and an
upcaster for what was stored before; the name stays the same."""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.events.values import (
    Consent,
    Domains,
    NationalCriteria,
    NonEmpty,
    Orientation,
    Person,
    Problem,
    Professional,
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


PAYLOAD_TYPES: dict[str, type[Payload]] = {
    cls.type_name(): cls
    for cls in (
        Referred, Admitted, AdmissionRefused, CaseManagerAssigned, Evaluated, PlanRevised,
        Hospitalised, Discharged, Closed,
    )
}
