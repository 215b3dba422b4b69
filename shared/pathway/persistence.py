"""Stores pydantic events as plain JSON, so the stored state is the contract's own shape.

The mapper is built by the library's factory (``Journal.construct_mapper``), so the
compressor and the cipher configured through ``COMPRESSOR_TOPIC`` / ``CIPHER_TOPIC`` apply;
upcasting follows the library's convention: an event class with ``class_version`` N has
``upcast_v1_v2`` … ``upcast_vN-1_vN`` methods, applied in order to older stored states."""

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
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(
            originator_id=domain_event.originator_id,  # type: ignore[attr-defined]
            originator_version=domain_event.originator_version,  # type: ignore[attr-defined]
            topic=get_topic(type(domain_event)),
            state=stored,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        stored = stored_event.state
        if self.cipher:
            stored = self.cipher.decrypt(stored)
        if self.compressor:
            stored = self.compressor.decompress(stored)
        state = self.transcoder.decode(stored)
        upcast(cls, state)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return cls.model_validate(state)


def upcast(cls: type, state: dict[str, Any]) -> None:
    """Brings a stored state up to its class's version, one step at a time."""
    version, target = state.pop("class_version", 1), getattr(cls, "class_version", 1)
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1


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
