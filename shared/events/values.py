"""Value objects carried inside event payloads. They are part of the public contract."""

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from shared.domain import ins

NonEmpty = Annotated[str, Field(min_length=1, max_length=500)]
Text = Annotated[str, Field(max_length=5000)]


def _checked_ins(value: str) -> str:
    normalised = ins.normalise(value)
    if not ins.is_valid(normalised):
        raise ValueError("INS invalide : 13 caractères puis une clé de contrôle de 2 chiffres")
    return normalised


Ins = Annotated[str, AfterValidator(_checked_ins), WithJsonSchema(
    # What is stored and published: the normalised INS (no spaces). The control key cannot
    # be written as a pattern; consumers who need it compute 97 − (number mod 97). Only in
    # the serialization schema: a request may still type the INS with spaces.
    {"type": "string", "pattern": ins.SHAPE.pattern,
     "description": "INS : NIR ou NIA (13 caractères, départements 2A/2B) et clé de 2 chiffres"},
    mode="serialization")]

ActorRole = Literal["referrer", "case_manager", "coordinator", "analyst", "administrator",
                    "system", "hospital"]
"""Who may act: the roles of the people signed in (``shared.api.auth.Role``), the platform's own
rules (``system``) and a hospital's ADT feed (``hospital``)."""


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Value):
    """Who did it: a professional id and the role they acted in."""

    id: NonEmpty
    role: ActorRole


class Professional(Value):
    id: NonEmpty
    name: NonEmpty
    profession: NonEmpty
    organisation: NonEmpty
    contact: NonEmpty
    rpps: Annotated[str, Field(pattern=r"^\d{11}$")] | None = None


class Person(Value):
    ins: Ins
    family_name: NonEmpty
    given_names: NonEmpty
    birth_date: date
    sex: Literal["F", "M", "X"]
    commune: NonEmpty
    attending_gp: NonEmpty | None = None

    def age_on(self, day: date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


class SubmittedIdentity(Value):
    """The identity traits a referral gave for an INS, as its sender typed them."""

    family_name: NonEmpty
    given_names: NonEmpty
    birth_date: date
    sex: Literal["F", "M", "X"]


class Criterion(Value):
    met: bool
    justification: NonEmpty


class NationalCriteria(Value):
    """The three national criteria for entering case management; the first has three parts."""

    c1a_functional_autonomy: Criterion
    c1b_medical: Criterion
    c1c_decisional_autonomy: Criterion
    c2_help_insufficient: Criterion
    c3_no_resource_person: Criterion

    def not_met(self) -> list[str]:
        """The criteria the referrer answered as not met, by field name."""
        return [name for name in type(self).model_fields if not getattr(self, name).met]


class Consent(Value):
    given_on: date
    given_by: NonEmpty


class Orientation(Value):
    """Where a refused situation is handed to."""

    to: NonEmpty
    kind: Literal["professional", "service", "establishment", "other"]
    details: Text = ""


RiskLevel = Literal["low", "moderate", "high"]


class Finding(Value):
    needs: list[NonEmpty] = []
    risk: RiskLevel
    notes: Text = ""


class Domains(Value):
    """The five domains of the multidimensional evaluation."""

    health: Finding
    functional_autonomy: Finding
    human_environment: Finding
    material_environment: Finding
    economic_administrative: Finding


class Scales(Value):
    """Instrument scale results, as numbers only: the licensed items are never stored."""

    adl_hierarchy: Annotated[int, Field(ge=0, le=6)] | None = None
    cps: Annotated[int, Field(ge=0, le=6)] | None = None
    chess: Annotated[int, Field(ge=0, le=5)] | None = None
    drs: Annotated[int, Field(ge=0, le=14)] | None = None
    maple: Annotated[int, Field(ge=1, le=5)] | None = None


ServiceType = Literal[
    "saad", "ssiad", "nursing", "physiotherapy", "meals", "day_care", "respite", "family_carer",
    "other",
]


class PlannedService(Value):
    type: ServiceType
    provider: NonEmpty
    frequency: NonEmpty


class Objective(Value):
    description: NonEmpty
    services: list[PlannedService] = []


class Problem(Value):
    description: NonEmpty
    objectives: list[Objective] = Field(min_length=1)


CareRole = Literal[
    "attending_gp", "nurse", "ssiad", "saad", "physiotherapist", "pharmacist",
    "social_worker", "family_carer", "trusted_person", "hospital_team", "other",
]


class CareCircleMember(Value):
    """A professional, service or relative who intervenes around the person."""

    member_id: NonEmpty
    name: NonEmpty
    role: CareRole
    organisation: NonEmpty | None = None
    contact: NonEmpty


class Recipient(Value):
    """Who an alert is for: a professional id, with the role that makes them concerned."""

    professional_id: NonEmpty
    name: NonEmpty
    role: NonEmpty
