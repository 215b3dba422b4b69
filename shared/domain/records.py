"""What the Pathway aggregate remembers of its stream: episodes, care circle, stays, alerts.

Plain records, changed only by the aggregate's ``when``."""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime

from shared import events as ev
from shared.events.payloads import ValidationMeans
from shared.events.values import CareCircleMember

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
    referral_id: UUID | None = None
    """The id its sender was given (none for referrals stored before ids were given)."""

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


@dataclass(frozen=True)
class Vigilance:
    """An identity-vigilance incident: a hospital's message whose traits contradict the
    file's. Frozen: resolving it replaces it, so copies of the state may share it."""

    raised: ev.IdentityVigilanceRaised
    raised_at: AwareDatetime
    resolved_by: str | None = None
    resolved_at: AwareDatetime | None = None


@dataclass(frozen=True)
class RepeatReferral:
    """A referral for a person the pathway already follows, or for its INS with other
    traits: the coordination's to resolve. Frozen, like ``Vigilance``."""

    received: ev.ReferralReceivedAgain
    received_at: AwareDatetime
    outcome: str | None = None
    resolved_by: str | None = None
    resolved_at: AwareDatetime | None = None


@dataclass(frozen=True)
class Receipt:
    """What the sender of a referral may know of it: received, then the decision on the
    episode it opened (admitted, refused) or the coordination's on a repeat referral (joined,
    declined). Nothing of the person's other episodes."""

    referral_id: UUID | None
    sender_id: str
    status: str
    decided_on: date | None = None
    episode: int | None = None
    """The episode it opened, for the pages that show its refusal's orientation."""


@dataclass
class Stay:
    establishment: str
    ward: str
    admitted_at: AwareDatetime
    kind: str = "planned"
    located_at: AwareDatetime | None = None
    """Since when the person is in this unit, when a movement said so."""


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

