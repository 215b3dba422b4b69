"""Snapshots of the long aggregates (pathways, territories), so that loading one reads a
snapshot and the few events after it, not its whole stream.

The store's mapper keeps pydantic models as plain JSON, so a snapshot is a pydantic model too,
its state typed field by field (``PathwayFields``, ``TerritoryFields``). A snapshot is a cache
of the fold: each one carries the fingerprint of the code that folded it, and one taken by
other code (a field, a rule of ``when`` changed) is ignored, the aggregate read from its
events, and snapshotted again by the new code."""

import hashlib
import inspect
from collections import Counter
from datetime import date
from types import ModuleType
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanSnapshotAggregate
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.domain import alerting, followup, records, repeats, stays
from shared.domain import pathway as domain
from shared.domain import state as state_module
from shared.domain import territory as territory_module
from shared.domain.followup import FollowUpState
from shared.domain.pathway import Pathway
from shared.domain.records import (
    Alert,
    Episode,
    FollowUp,
    Membership,
    RepeatReferral,
    Status,
    Stay,
    Vigilance,
)
from shared.domain.territory import Territory
from shared.events.values import Person


class PathwayFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: Person | None
    identity_qualified_by: str | None
    territory: str
    status: Status
    episodes: list[Episode]
    admitted_on: date | None
    case_manager_id: str | None
    waiting_rank: int | None
    open_stay: Stay | None
    discharged_stay: Stay | None
    care_circle: list[Membership]
    follow_up: FollowUp
    state: FollowUpState
    alerts: dict[UUID, Alert]
    fired_keys: set[str]
    vigilance: dict[UUID, Vigilance]
    repeat_referrals: dict[UUID, RepeatReferral]
    letter_received: bool
    last_fact_event_id: UUID | None


class TerritoryFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    managers: dict[str, tuple[str, int]]
    places: dict[UUID, str]
    loads: dict[str, int]
    queue: list[UUID]


def _fingerprint(*modules: ModuleType) -> str:
    """The code that folds an aggregate: a snapshot taken by other code is not used."""
    digest = hashlib.sha256()
    for module in modules:
        try:
            digest.update(inspect.getsource(module).encode())
        except (OSError, TypeError):  # no source shipped: the fields' shape at least
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:16]


class AggregateSnapshot(BaseModel, CanSnapshotAggregate[UUID]):
    """What the store keeps: the aggregate's fields as of ``originator_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    topic: str
    created_on: AwareDatetime
    modified_on: AwareDatetime
    fingerprint: str

    FINGERPRINT: ClassVar[str] = ""
    AGGREGATE: ClassVar[type[BaseAggregate[UUID]]]

    @classmethod
    def take(cls, aggregate: Any) -> Any:
        snapshot_class = SNAPSHOTS[type(aggregate)]
        return snapshot_class.model_validate({
            "originator_id": aggregate.id, "originator_version": aggregate.version,
            "timestamp": cls.create_timestamp(), "topic": get_topic(type(aggregate)),
            "created_on": aggregate.created_on, "modified_on": aggregate.modified_on,
            "fingerprint": snapshot_class.FINGERPRINT,
            "state": snapshot_class.fields_of(aggregate)})

    @classmethod
    def fields_of(cls, aggregate: Any) -> Any:
        raise NotImplementedError

    def is_current(self) -> bool:
        return self.fingerprint == self.FINGERPRINT

    def mutate(self, _: Any) -> Any:
        aggregate = object.__new__(resolve_topic(self.topic))
        fields = self._fields()
        fields.update(_id=self.originator_id, _version=self.originator_version,
                      _created_on=self.created_on, _modified_on=self.modified_on,
                      _pending_events=[])
        object.__setattr__(aggregate, "__dict__", fields)
        return aggregate

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError


class PathwaySnapshot(AggregateSnapshot):
    state: PathwayFields

    FINGERPRINT: ClassVar[str] = _fingerprint(domain, state_module, stays, alerting, records,
                                            followup, repeats)

    @classmethod
    def fields_of(cls, aggregate: Any) -> PathwayFields:
        return PathwayFields.model_validate(
            {name: getattr(aggregate, name) for name in PathwayFields.model_fields})

    def _fields(self) -> dict[str, Any]:
        # Each snapshot read gives fresh objects: the model's own are copied, not shared.
        return {name: getattr(self.state, name) for name in PathwayFields.model_fields} | {
            "fired_keys": set(self.state.fired_keys)}


class TerritorySnapshot(AggregateSnapshot):
    state: TerritoryFields

    FINGERPRINT: ClassVar[str] = _fingerprint(territory_module)

    @classmethod
    def fields_of(cls, aggregate: Any) -> TerritoryFields:
        return TerritoryFields(code=aggregate.code, managers=aggregate.managers,
                               places=aggregate.places, loads=dict(aggregate.loads),
                               queue=aggregate.queue)

    def _fields(self) -> dict[str, Any]:
        fields = self.state
        return {"code": fields.code, "managers": dict(fields.managers),
                "places": dict(fields.places), "loads": Counter(fields.loads),
                "queue": list(fields.queue)}


SNAPSHOTS: dict[type[Any], type[AggregateSnapshot]] = {
    Pathway: PathwaySnapshot, Territory: TerritorySnapshot}
