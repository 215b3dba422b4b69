"""Domain events of the pathway stream: the contract's payload inside the envelope's fields.

There is one domain event class per payload type, named like it, so that a stored event
parses back into its typed payload. ``PathwayOpened`` is the first referral of a person: it
creates the stream, and its contract type is ``Referred`` like every later referral."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
from pydantic import AwareDatetime, BaseModel, ConfigDict, create_model

from shared import events as ev
from shared.pathway.commands import Meta


class PathwayEvent(BaseModel, CanMutateAggregate[UUID]):
    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    event_id: UUID
    occurred_at: AwareDatetime
    actor: ev.Actor
    correlation_id: UUID
    causation_id: UUID | None
    data: ev.Payload

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)


class PathwayOpened(PathwayEvent, CanInitAggregate[UUID]):
    originator_topic: str
    data: ev.Referred


def _event_class(payload_class: type[ev.Payload]) -> type[PathwayEvent]:
    return create_model(
        payload_class.type_name(),
        __base__=PathwayEvent,
        __module__=__name__,
        data=(payload_class, ...),
    )


EVENT_CLASSES: dict[str, type[PathwayEvent]] = {
    name: _event_class(cls) for name, cls in ev.PAYLOAD_TYPES.items()
}
# The store finds a class again by its module attribute ("shared.pathway.events:Admitted").
globals().update(EVENT_CLASSES)


def event_fields(payload: ev.Payload, meta: Meta) -> dict[str, object]:
    occurred_at = meta.occurred_at or payload.occurred_at_hint() or datetime.now(UTC)
    return {
        "event_id": uuid4(),
        "occurred_at": occurred_at,
        "actor": meta.actor,
        "correlation_id": meta.correlation_id,
        "causation_id": meta.causation_id,
        "data": payload,
    }
