"""Stores pydantic events as plain JSON, so the stored state is the contract's own shape.

The mapper is built by the library's factory (``Journal.construct_mapper``), so the
compressor and the cipher configured through ``COMPRESSOR_TOPIC`` / ``CIPHER_TOPIC`` apply;
upcasting follows the library's convention: an event class with ``class_version`` N has
``upcast_v1_v2`` … ``upcast_vN-1_vN`` methods, applied in order to older stored states."""

import json
import time
import weakref
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from shared.domain.events import PathwayEvent
from shared.events import EventEnvelope


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


class RecentlyChecked:
    """The pool's check before lending a connection (``POSTGRES_PRE_PING``), skipped for a
    connection lent less than ``fresh_s`` ago: it answered a moment before, and the check's
    round trip doubled a command's. One idle longer (across an outage, which lasts seconds)
    is checked as before; a connection that broke in between fails its query, and the
    library's retry takes another (psycopg's pool drops a broken one when it is returned)."""

    def __init__(self, check: Callable[[Any], None], fresh_s: float = 1.0) -> None:
        self.check = check
        self.fresh_s = fresh_s
        self._lent: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def __call__(self, connection: Any) -> None:
        now = time.monotonic()
        lent = self._lent.get(connection)
        if lent is None or now - lent > self.fresh_s:
            self.check(connection)
        self._lent[connection] = now


def skip_recent_pre_pings(recorder: object) -> None:
    """Puts ``RecentlyChecked`` in front of the pre-ping of the recorder's pool, if any."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    check = getattr(pool, "_check", None)  # psycopg_pool's; None without pre-ping or SQLite
    if check is not None and not isinstance(check, RecentlyChecked):
        pool._check = RecentlyChecked(check)  # type: ignore[union-attr]


def upcast(cls: type, state: dict[str, Any]) -> None:
    """Brings a stored state up to its class's version, one step at a time."""
    version, target = state.pop("class_version", 1), getattr(cls, "class_version", 1)
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1


def to_envelope(event: PathwayEvent, global_position: int | None = None) -> EventEnvelope:
    # The stored event's model validated every field when it was read: no second pass.
    payload = event.data
    return EventEnvelope.trusted(
        payload,
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
    )
