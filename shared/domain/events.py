"""Domain events of the pathway stream: the contract's payload inside the envelope's fields.

There is one domain event class per payload type, named like it, so that a stored event
parses back into its typed payload. ``PathwayOpened`` is the first referral of a person: it
creates the stream, and its contract type is ``Referred`` like every later referral."""

from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import CanInitAggregate, CanMutateAggregate
from pydantic import AwareDatetime, BaseModel, ConfigDict, create_model

from shared import events as ev
from shared.domain.commands import Meta
from shared.domain.dates import moment


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

    class_version: ClassVar[int] = 2
    """v2: ``occurred_at`` is the fact's own date; v1 stored the time of typing for facts
    given as a day (only hospital stays had their real moment)."""

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)

    @classmethod
    def upcast_v1_v2(cls, state: dict[str, Any]) -> None:
        payload_class = cls.model_fields["data"].annotation
        assert isinstance(payload_class, type) and issubclass(payload_class, ev.Payload)
        fact = payload_class.model_validate(state["data"]).fact_date()
        if fact is not None:
            state["occurred_at"] = moment(fact).isoformat()


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
    """The envelope of a new event: it happened at the moment the payload gives (a day starts
    at midnight in the territory), else when the caller says, else when it is written."""
    fact = payload.fact_date()
    occurred_at = moment(fact, meta.zone) if fact is not None else (meta.occurred_at or meta.now)
    return {
        "event_id": uuid4(),
        "occurred_at": occurred_at,
        "actor": meta.actor,
        "correlation_id": meta.correlation_id,
        "causation_id": meta.causation_id,
        "data": payload,
    }
