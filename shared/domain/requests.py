"""What a client may send about a person's file: one request model per route, each turned
into the command's payload. The stored events (``shared.events``) are another contract: the
API may accept more or less than what is stored, and either can change on its own."""

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared import events as ev
from shared.domain.records import ReceivedValidation
from shared.events.payloads import (
    ClosureReason,
    ContactKind,
    ContactWith,
    DischargeDestination,
    DysfunctionCategory,
    EvaluationKind,
    StayKind,
)
from shared.events.values import CareCircleMember, Domains, NonEmpty, Problem, Scales, Text


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evaluation(Request):
    """A multidimensional evaluation; the instruments' scale results as numbers only."""

    kind: EvaluationKind
    evaluated_on: date
    domains: Domains
    scales: Scales = Scales()
    summary: Text = ""

    def payload(self) -> ev.Evaluated:
        return ev.Evaluated(**self.model_dump())


class PlanRevision(Request):
    revision: int = Field(ge=1, description="Le numéro qui suit la dernière révision")
    problems: list[Problem] = Field(min_length=1)
    summary: Text = ""
    revised_on: date | None = Field(default=None, description="Aujourd'hui sinon")

    def payload(self) -> ev.PlanRevised:
        return ev.PlanRevised(**self.model_dump())


class Validation(Request):
    """Signed in as the médecin traitant: the day of the validation only. Recording a
    validation received from them: also how and when it arrived."""

    validated_on: date
    received_via: Literal["courrier", "messagerie_securisee", "telephone"] | None = Field(
        default=None, description="Moyen par lequel la validation du médecin est parvenue")
    received_on: date | None = Field(default=None, description="Date de réception")

    @model_validator(mode="after")
    def _both_or_neither(self) -> "Validation":
        if (self.received_via is None) != (self.received_on is None):
            raise ValueError("une validation reçue précise le moyen (received_via) et la date "
                             "de réception (received_on)")
        return self

    def received(self) -> ReceivedValidation | None:
        """How the validation reached the case manager; None when the GP signed it in."""
        if self.received_via is None or self.received_on is None:
            return None
        return ReceivedValidation(means=self.received_via, received_on=self.received_on)


class Joining(Request):
    member: CareCircleMember
    joined_on: date

    def payload(self) -> ev.MemberJoined:
        return ev.MemberJoined(member=self.member, joined_on=self.joined_on)


class Departure(Request):
    left_on: date
    reason: Text = ""

    def payload(self, member_id: str) -> ev.MemberLeft:
        return ev.MemberLeft(member_id=member_id, left_on=self.left_on, reason=self.reason)


class Hospitalisation(Request):
    establishment: NonEmpty
    ward: NonEmpty
    admitted_at: AwareDatetime = Field(description="L'heure réelle d'entrée")
    kind: StayKind
    reason: Text = ""

    def payload(self) -> ev.Hospitalised:
        return ev.Hospitalised(**self.model_dump())


class StayTransfer(Request):
    establishment: NonEmpty
    ward: NonEmpty
    transferred_at: AwareDatetime

    def payload(self) -> ev.StayTransferred:
        return ev.StayTransferred(**self.model_dump())


class Discharge(Request):
    discharged_at: AwareDatetime
    destination: DischargeDestination
    discharge_letter_received: bool

    def payload(self) -> ev.Discharged:
        return ev.Discharged(**self.model_dump())


class DischargeLetter(Request):
    received_on: date

    def payload(self) -> ev.DischargeLetterReceived:
        return ev.DischargeLetterReceived(received_on=self.received_on)


class Note(Request):
    kind: ContactKind
    with_whom: ContactWith
    contact_on: date
    summary: NonEmpty

    def payload(self) -> ev.FollowUpNoted:
        return ev.FollowUpNoted(**self.model_dump())


class DysfunctionReport(Request):
    """A dysfunction met while following the person; its territory is the pathway's."""

    category: DysfunctionCategory
    description: NonEmpty
    reported_on: date | None = Field(default=None, description="Aujourd'hui sinon")
    territory: NonEmpty | None = Field(
        default=None, description="Accepté pour compatibilité : doit être celui du parcours")

    def payload(self, territory: str) -> ev.DysfunctionReported:
        return ev.DysfunctionReported(category=self.category, description=self.description,
                                      territory=territory, reported_on=self.reported_on)


class Closure(Request):
    closed_on: date
    reason_code: ClosureReason
    handed_over_to: NonEmpty | None = Field(
        default=None, description="Le professionnel relais, pour une stabilisation")
    comment: Text = ""

    @model_validator(mode="after")
    def _hand_over_named(self) -> "Closure":
        if self.reason_code == "stabilisation" and not self.handed_over_to:
            raise ValueError("une clôture pour stabilisation nomme le professionnel relais")
        return self

    def payload(self) -> ev.Closed:
        return ev.Closed(**self.model_dump())
