"""What a client may send about referrals, decisions and case managers: one request model
per route, apart from the stored events."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared import events as ev
from shared.events.payloads import RefusalReason
from shared.events.values import (
    Consent,
    NationalCriteria,
    NonEmpty,
    Orientation,
    Person,
    Text,
)


class ReferrerDetails(BaseModel):
    """How to reach the referring professional. Who they are comes from their token; ``id``
    and ``name`` are accepted for compatibility and must then be theirs."""

    model_config = ConfigDict(extra="forbid")

    profession: NonEmpty
    organisation: NonEmpty
    contact: NonEmpty
    rpps: Annotated[str, Field(pattern=r"^\d{11}$")] | None = None
    id: NonEmpty | None = None
    name: NonEmpty | None = None


class ReferralRequest(BaseModel):
    """The referral form (fiche d'orientation / FAMO)."""

    model_config = ConfigDict(extra="forbid")

    referred_on: date
    territory: NonEmpty
    referrer: ReferrerDetails
    person: Person
    neuro_evolutive_disease: bool = False
    criteria: NationalCriteria
    consent: Consent
    context: Text = ""

    def payload(self, referrer_id: str, referrer_name: str, referral_id: UUID) -> ev.Referred:
        """Who refers is the one signed in, never what the request declares: the referrer's
        ``id`` and ``name`` are theirs, the rest of ``referrer`` how to reach them."""
        referrer = {**self.referrer.model_dump(include={"profession", "organisation",
                                                         "contact", "rpps"}),
                    "id": referrer_id, "name": referrer_name}
        return ev.Referred(**self.model_dump(exclude={"referrer"}), referrer=referrer,
                           referral_id=referral_id)


class CriteriaOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    justification: NonEmpty = Field(description="Pourquoi la commission admet malgré un "
                                    "critère national non rempli")


class AdmissionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decided_on: date
    case_manager_id: NonEmpty | None = Field(
        default=None, description="Sans gestionnaire désigné : celui qui a le plus de places, "
        "ou la liste d'attente si tous sont complets.")
    notes: Text = ""
    criteria_override: CriteriaOverride | None = None

    def payload(self) -> ev.Admitted:
        override = self.criteria_override
        return ev.Admitted(decided_on=self.decided_on, notes=self.notes,
                           criteria_override=override.justification if override else None)


class IdentityCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    family_name: NonEmpty
    given_names: NonEmpty
    birth_date: date
    sex: Literal["F", "M", "X"]
    reason: NonEmpty


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_manager_id: NonEmpty
    reason: NonEmpty


class CaseManager(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonEmpty
    capacity: int | None = Field(default=None, ge=1, le=100,
                                 description="Places ; la valeur par défaut du territoire sinon")


class Refusal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decided_on: date
    reason_code: RefusalReason
    reason: NonEmpty
    orientation: Orientation = Field(description="Vers qui ou quel service la situation est "
                                     "orientée")

    def payload(self) -> ev.AdmissionRefused:
        return ev.AdmissionRefused(**self.model_dump())


class Sharing(BaseModel):
    """The person moves to another territory and consents to its reading their file."""

    model_config = ConfigDict(extra="forbid")

    with_territory: NonEmpty = Field(description="Le territoire où la personne s'installe")
    consent_given_on: date = Field(description="Date du consentement de la personne")


class RepeatResolution(BaseModel):
    """The coordinator's answer to a repeat referral (a person already followed, or an INS
    known with other traits)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["joined", "declined"] = Field(
        description="joined : rattachée au parcours en cours ; declined : déclinée")
    comment: Text = ""
