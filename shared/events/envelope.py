"""The envelope every pathway event travels in, on Kafka and through the API."""

from functools import cached_property
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.payloads import PAYLOAD_TYPES, Payload
from shared.events.values import Actor


class UnknownEventTypeError(ValueError):
    pass


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    pathway_id: UUID
    # Versions and positions count from 1: the exported schema says so.
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
        """The data parsed into its typed payload model, once per envelope: a replay hands the
        same batch, so the same envelopes, to every projection. Payloads are frozen, so sharing
        the parsed one is safe."""
        return self.parsed_payload

    @cached_property
    def parsed_payload(self) -> Payload:
        return payload_class(self.type).model_validate(self.data)

    @cached_property
    def pathway_key(self) -> str:
        """``str(pathway_id)``, computed once: the views key their rows by it, and formatting
        a UUID again for each use showed in a replay's profile."""
        return str(self.pathway_id)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def trusted(cls, payload: Payload, **fields: Any) -> "EventEnvelope":
        """An envelope of an event read back from the store, built without validating again
        what was validated when it was recorded and when it was read (its stored event's
        model); ``payload`` is that event's already parsed data. Input from outside goes
        through ``model_validate`` or ``from_json``."""
        envelope = cls.model_construct(**fields, data=payload.model_dump(mode="json"))
        envelope.__dict__["parsed_payload"] = payload  # what the cached property would give
        return envelope

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

