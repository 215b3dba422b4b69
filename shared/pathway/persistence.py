"""Stores pydantic events as plain JSON, so the stored state is the contract's own shape."""

import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from shared.events import EventEnvelope
from shared.pathway.events import PathwayEvent


class JsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class PydanticMapper(Mapper[UUID]):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, BaseModel)
        state = domain_event.model_dump(
            mode="json", exclude={"originator_id", "originator_version"}
        )
        return StoredEvent(
            originator_id=domain_event.originator_id,  # type: ignore[attr-defined]
            originator_version=domain_event.originator_version,  # type: ignore[attr-defined]
            topic=get_topic(type(domain_event)),
            state=self.transcoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        state = self.transcoder.decode(stored_event.state)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return cls.model_validate(state)


def to_envelope(event: PathwayEvent, global_position: int | None = None) -> EventEnvelope:
    payload = event.data
    return EventEnvelope(
        event_id=event.event_id,
        pathway_id=event.originator_id,
        stream_version=event.originator_version,
        global_position=global_position,
        type=payload.type_name(),
        schema_version=payload.schema_version,
        occurred_at=event.occurred_at,
        recorded_at=event.timestamp,
        actor=event.actor,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
        data=payload.model_dump(mode="json"),
    )
