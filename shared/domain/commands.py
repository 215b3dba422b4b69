"""What every command carries besides its payload, and the practice settings rules read."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from shared.domain.dates import DEFAULT_TIME_ZONE
from shared.events import Actor


@dataclass(frozen=True)
class Answer:
    """What the API answered the first time."""

    status_code: int
    body: Mapping[str, Any]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class IdempotentRequest:
    """A command sent with an ``Idempotency-Key``: who sent it, the key, a digest of the
    request (to tell a retry from another command under the same key), and how the API
    answers once the command has been applied to a pathway."""

    scope: str
    key: str
    fingerprint: str
    answer: Callable[[Any], Answer]
    """From the pathway as saved to the API's answer (status, body, headers)."""


SYSTEM = Actor(id="parcours", role="system")


@dataclass(frozen=True)
class Meta:
    """Who acts, when it is written (``now``, from the platform's clock), and in which time
    zone the facts' days are counted. ``occurred_at`` is for facts whose payload holds no date
    (a case manager assigned at the admission's date)."""

    actor: Actor
    occurred_at: datetime | None = None
    correlation_id: UUID = field(default_factory=uuid4)
    causation_id: UUID | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    zone: ZoneInfo = DEFAULT_TIME_ZONE
    future_tolerance: timedelta = timedelta(days=1)
    idempotency: IdempotentRequest | None = None
    """The command's ``Idempotency-Key``: applied once however often it is sent."""


@dataclass(frozen=True)
class Policy:
    """Delays and defaults of the practice, from the settings."""

    evaluation_interval_days: int = 180
    initial_evaluation_days: int = 30
    return_evaluation_days: int = 7
    default_capacity: int = 35
    """Places of a case manager registered without a capacity (a full-time post)."""

    def next_evaluation_due(self, admitted_on: date, last_evaluated_on: date | None,
                            discharged_home_on: date | None) -> date:
        """Periodic evaluation, or sooner the return evaluation after a discharge home."""
        if last_evaluated_on is None:
            due = admitted_on + timedelta(days=self.initial_evaluation_days)
        else:
            due = last_evaluated_on + timedelta(days=self.evaluation_interval_days)
        if discharged_home_on and (last_evaluated_on is None
                                   or last_evaluated_on < discharged_home_on):
            due = min(due, discharged_home_on + timedelta(days=self.return_evaluation_days))
        return due


@dataclass(frozen=True)
class Delays:
    """Days before each rupture rule fires, from the settings."""

    r3_no_revision_after_discharge: int = 7
    r4_stay_without_note: int = 10
    r6_without_attending_gp: int = 15
    r6_plan_not_validated: int = 15
    r7_no_discharge_letter: int = 3
    immediate_lapse: int = 2
    """R1 and R2 say "now": found more days late than this (history loaded, a long outage),
    they lapse instead of alerting people about a stay long over."""
