"""How the journal is stored and read: the ``eventsourcing`` application's infrastructure
and every read of the store. The use cases are in ``application.py``."""

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.persistence import ApplicationRecorder, Mapper, Recording
from eventsourcing.utils import get_topic, resolve_topic, strtobool

from shared.domain import ins
from shared.domain.errors import PathwayNotFoundError
from shared.domain.events import EVENT_CLASSES, PathwayEvent, PathwayOpened
from shared.domain.pathway import Pathway
from shared.domain.person_index import PersonIndex
from shared.domain.referral_index import ReferralIndex
from shared.domain.territory import Territory
from shared.events import EventEnvelope
from shared.journal import idempotency
from shared.journal.locks import SerialisedCacheRepository
from shared.journal.mapper import (
    JsonTranscoder,
    PydanticMapper,
    skip_recent_pre_pings,
    to_envelope,
)


class VersionNotFoundError(PathwayNotFoundError):
    code = "version.not_found"


class JournalStore(Application[UUID]):
    """How the journal is kept: the library's application with our mapper, a recorder that
    also records idempotency keys, a cache of aggregates with snapshots, and listeners told of
    each commit; and every read of what it keeps."""

    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1000",
                                     "IS_SNAPSHOTTING_ENABLED": "y"}

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        for store in (self.events, self.snapshots):
            if store is not None:
                skip_recent_pre_pings(store.recorder)
        self._attempt = threading.local()
        """``optimistic`` while a command's first attempt runs: it loads what the cache holds
        without asking the store for newer events; a stale load fails to save and the next
        attempt loads afresh."""
        self.listeners: list[Callable[[Sequence[Any]], object]] = []
        """Told of the events of each committed save (the embedded mode wakes its scheduler
        when one makes an alert due at once)."""

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = super()._record(processing_event)
        repository = self.repository
        if isinstance(repository, SerialisedCacheRepository) and repository.fastforward:
            # The next command on these aggregates starts from them, without a query.
            repository.remember(processing_event.aggregates.values())
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if self.listeners:
            events = [recording.domain_event for recording in recordings]
            for listener in self.listeners:
                listener(events)

    def construct_mapper(self) -> Mapper[UUID]:
        # Through the factory, so that a configured cipher and compressor apply.
        return self.factory.mapper(transcoder=JsonTranscoder(), mapper_class=PydanticMapper)

    def construct_recorder(self) -> ApplicationRecorder:
        # The library's recorder, which also records a command's Idempotency-Key in the
        # transaction of its events.
        return idempotency.application_recorder(self.factory)

    def construct_repository(self) -> Repository[UUID]:
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return SerialisedCacheRepository(
            event_store=self.events, snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
        )

    # -- reads ------------------------------------------------------------------------------

    def pathway(self, pathway_id: UUID, version: int | None = None) -> Pathway:
        try:
            pathway: Any = (self._load(pathway_id) if version is None
                            else self.repository.get(pathway_id, version=version))
        except AggregateNotFoundError:
            pathway = None
        if not isinstance(pathway, Pathway):
            raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
        if version is not None and pathway.version < version:
            raise VersionNotFoundError(
                f"Le journal de ce parcours s'arrête à la version {pathway.version}.",
                current_version=pathway.version)
        return pathway

    def pathway_as_of(self, pathway_id: UUID, as_of: datetime) -> Pathway:
        """The pathway as the file showed it at that moment (what had been recorded)."""
        versions = [e.originator_version for e in self.events.get(pathway_id)
                    if isinstance(e, PathwayEvent) and e.timestamp <= as_of]
        if not versions:
            raise PathwayNotFoundError("Ce parcours n'existait pas encore à cette date.",
                                       pathway_id=str(pathway_id))
        return self.pathway(pathway_id, version=max(versions))

    def pathway_of_person(self, ins_value: str) -> UUID | None:
        """The pathway of the person with this INS (typed with spaces or not), if Parcours
        follows or followed them."""
        normalised = ins.normalise(ins_value)
        if not ins.is_valid(normalised):
            return None
        try:
            index: PersonIndex = self.repository.get(PersonIndex.id_for(normalised))
        except AggregateNotFoundError:
            return None
        return index.pathway_id

    def pathway_of_referral(self, referral_id: UUID) -> UUID | None:
        """The pathway a referral went to (an episode it opened, or a repeat referral), if
        any: for its sender's receipt only."""
        try:
            index: ReferralIndex = self.repository.get(ReferralIndex.id_for(referral_id))
        except AggregateNotFoundError:
            return None
        return index.pathway_id

    def territory_of(self, pathway_id: UUID) -> str:
        """The pathway's territory as the cache knows it, without a query (read from the
        store when not cached): a pathway moves to another territory only with a new
        episode, so whoever acts on it checks it again on what they load."""
        cached = self._peek(pathway_id)
        if isinstance(cached, Pathway):
            return cached.territory
        return self.pathway(pathway_id).territory

    def territory_has_managers(self, code: str) -> bool:
        """Managers are registered, never removed: a cached territory that has some has them
        still, and only one that has none is read again from the store."""
        cached = self._peek(Territory.id_for(code))
        return (isinstance(cached, Territory) and bool(cached.managers)) or bool(
            self.territory(code).managers)

    def _peek(self, aggregate_id: UUID) -> Any:
        repository = self.repository
        if isinstance(repository, SerialisedCacheRepository):
            return repository.peek(aggregate_id)
        return None

    def territory(self, code: str) -> Territory:
        try:
            territory: Territory = self._load(Territory.id_for(code))
        except AggregateNotFoundError:
            territory = Territory.open(code)
        return territory

    def _load(self, aggregate_id: UUID) -> Any:
        """In a command's first attempt, the cached aggregate as is; else brought up to date."""
        repository = self.repository
        if getattr(self._attempt, "optimistic", False) and isinstance(
                repository, SerialisedCacheRepository):
            return repository.cached(aggregate_id)
        return repository.get(aggregate_id)

    def events_of(self, pathway_id: UUID) -> Sequence[EventEnvelope]:
        """The pathway's journal: every event in order, in its envelope."""
        self.pathway(pathway_id)
        return [
            to_envelope(event)
            for event in self.events.get(pathway_id)
            if isinstance(event, PathwayEvent)
        ]


def read_log(journal: JournalStore, start: int,
             limit: int) -> list[tuple[int, EventEnvelope | None]]:
    """The global log from position ``start`` on: (position, envelope), or None for a stored
    event that is not part of a pathway (the person index, the territories)."""
    entries: list[tuple[int, EventEnvelope | None]] = []
    for notification in journal.recorder.select_notifications(start=start, limit=limit):
        if not _is_pathway_topic(notification.topic):
            entries.append((notification.id, None))  # not decoded: nobody reads it here
            continue
        event = journal.mapper.to_domain_event(notification)
        assert isinstance(event, PathwayEvent)
        entries.append((notification.id, to_envelope(event, notification.id)))
    return entries


REFERRAL_TOPICS = (get_topic(PathwayOpened), get_topic(EVENT_CLASSES["Referred"]))


def read_referrals(journal: JournalStore, stop: int, page: int = 2000) -> list[EventEnvelope]:
    """Every referral (a stream's first, and a person's later ones) at positions up to
    ``stop``, in the log's order: what the analytics stream counts before it goes on."""
    referrals: list[EventEnvelope] = []
    start = 1
    while start <= stop:
        notifications = journal.recorder.select_notifications(
            start=start, limit=page, stop=stop, topics=REFERRAL_TOPICS)
        for notification in notifications:
            event = journal.mapper.to_domain_event(notification)
            assert isinstance(event, PathwayEvent)
            referrals.append(to_envelope(event, notification.id))
        if len(notifications) < page:
            break
        start = notifications[-1].id + 1
    return referrals


@lru_cache(maxsize=256)
def _is_pathway_topic(topic: str) -> bool:
    return issubclass(resolve_topic(topic), PathwayEvent)


class JournalReader(JournalStore):
    """The journal's store read by a process that never writes it: the same tables as the
    ``Journal``'s (the library names them after the application), never created here."""

    name = "Journal"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env={**(env or {}), "CREATE_TABLE": "n"})
