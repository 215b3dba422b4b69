"""What every command carries besides its payload, and the practice settings rules read."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from shared.events import Actor

SYSTEM = Actor(id="parcours", role="system")


@dataclass(frozen=True)
class Meta:
    actor: Actor
    occurred_at: datetime | None = None
    correlation_id: UUID = field(default_factory=uuid4)
    causation_id: UUID | None = None


@dataclass(frozen=True)
class Policy:
    """Delays of the practice, from the settings."""

    evaluation_interval_days: int = 180
    initial_evaluation_days: int = 30
    return_evaluation_days: int = 7
