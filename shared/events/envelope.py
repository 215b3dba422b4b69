"""The envelope every pathway event travels in, on Kafka and through the API."""

import threading
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.payloads import PAYLOAD_TYPES, Payload
from shared.events.values import Actor

_PARSED: dict[UUID, Payload] = {}
_PARSED_MAX = 8192
_PARSED_LOCK = threading.Lock()


class UnknownEventTypeError(ValueError):
    pass


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    pathway_id: UUID
    # Versions and positions count from 1: the exported schema says so (issue 12).
    stream_version: int = Field(ge=1)
    global_position: int | None = Field(ge=1)
    type: str
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    actor: Actor
    correlation_id: UUID
    causation_id: UUID | None
    data: dict[str, Any]

    def payload(self) -> Payload:
        """The data parsed into its typed payload model, once per event for the last few
        thousand events: a replay hands the same batch to every projection. An event's id
        names one content, and payloads are frozen, so sharing the parsed one is safe."""
        with _PARSED_LOCK:
            parsed = _PARSED.get(self.event_id)
        if parsed is None:
            parsed = payload_class(self.type).model_validate(self.data)
            with _PARSED_LOCK:
                _PARSED[self.event_id] = parsed
                if len(_PARSED) > _PARSED_MAX:
                    del _PARSED[next(iter(_PARSED))]  # the oldest
        return parsed

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "EventEnvelope":
        envelope = cls.model_validate_json(raw)
        payload_class(envelope.type)  # an unknown type is an error, not a silent skip
        return envelope


def payload_class(type_name: str) -> type[Payload]:
    try:
        return PAYLOAD_TYPES[type_name]
    except KeyError:
        raise UnknownEventTypeError(f"unknown pathway event type {type_name!r}") from None

