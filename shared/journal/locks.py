"""Serialising what must not run at once: the decisions on a territory's places, and the
repository's copies of cached aggregates.

A territory's places are one aggregate that every admission and closure of the territory
changes; left optimistic, concurrent admissions conflict and exhaust their retries. They are
taken one at a time instead: a lock per territory in this process, and on PostgreSQL an
advisory lock too, so that several API processes also take turns."""

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from copy import deepcopy
from itertools import chain
from typing import Any
from uuid import UUID

import psycopg
import psycopg.errors
from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder

from shared.journal.postgres import SnapshotAndEvents
from shared.journal.snapshots import SNAPSHOTS, AggregateSnapshot

log = logging.getLogger(__name__)
ADVISORY_CLASS = 0x5041  # "PA": the first key of Parcours' advisory locks
_STRIPES = 64


@contextmanager
def _taken(lock: threading.Lock, wait_s: float | None, behind: str) -> Iterator[None]:
    """The lock, waited for at most ``wait_s`` (None: as long as it takes). Past it, the
    store counts as unavailable (``OperationalError``: the API answers 503): whoever holds the
    lock is itself waiting on the database."""
    if not lock.acquire(timeout=-1 if wait_s is None else wait_s):
        raise OperationalError(f"waited {wait_s} s for {behind}, which wait for the database")
    try:
        yield
    finally:
        lock.release()


class TerritoryLocks:
    wait_s: float | None = None
    """How long an admission or a closure waits for its territory's turn, in this process and
    then on the advisory lock, before answering that the store is unavailable (503). In an
    outage the holder waits on the database for the store's own bound, and without this
    every admission of the territory queued behind it. None: wait."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._postgres = env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"
        self._env = env
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._connections: dict[str, psycopg.Connection[Any]] = {}

    @contextmanager
    def hold(self, territory: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(territory, threading.Lock())
        started = time.monotonic()
        with _taken(lock, self.wait_s, "the territory's turn behind other admissions"):
            if not self._postgres:
                yield
                return
            with self._advisory(territory, started):
                yield

    @contextmanager
    def _advisory(self, territory: str, started: float) -> Iterator[None]:
        """The territory's turn among the API processes: a session-level advisory lock,
        waited for in what is left of the bound."""
        try:
            connection = self._connection(territory)
            if self.wait_s is not None:
                left_ms = max(1, int((started + self.wait_s - time.monotonic()) * 1000))
                connection.execute(f"SET lock_timeout = {left_ms}")
            connection.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                               (ADVISORY_CLASS, territory))
        except psycopg.errors.LockNotAvailable:
            raise  # another process holds the turn past the bound: the session is sound
        except psycopg.OperationalError:
            self._connections.pop(territory, None)  # the server restarted: next time anew
            raise
        try:
            yield
        finally:
            try:
                connection.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                                   (ADVISORY_CLASS, territory))
            except psycopg.OperationalError:
                self._connections.pop(territory, None)  # the session's locks died with it

    def _connection(self, territory: str) -> "psycopg.Connection[Any]":
        # One session per territory, used only under that territory's lock: a session that
        # waits for one territory's lock never holds up another territory.
        connection = self._connections.get(territory)
        if connection is None or connection.closed:
            env = self._env
            connection = psycopg.connect(
                dbname=env.get("POSTGRES_DBNAME"), host=env.get("POSTGRES_HOST"),
                port=env.get("POSTGRES_PORT"), user=env.get("POSTGRES_USER"),
                password=env.get("POSTGRES_PASSWORD") or None, autocommit=True,
                connect_timeout=max(1, round(self.wait_s)) if self.wait_s else None)
            self._connections[territory] = connection
        return connection

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


class SerialisedCacheRepository(Repository[UUID]):
    """The library fast-forwards a cached aggregate in place, then deep-copies it outside its
    fast-forward lock: a copy taken while another thread fast-forwards the same aggregate
    fails ("dictionary changed size during iteration"). One lock per aggregate (striped)
    around both.

    Also: ``cached`` gives the cached aggregate without asking the store for newer events (a
    command saves with the version it read, so the store refuses it if it was stale);
    ``remember`` puts what a command saved in the cache; and a load that had to replay many
    events stores a snapshot, so the next cold load of that aggregate replays few."""

    SNAPSHOT_AFTER = 50
    """Events replayed by a load beyond which it stores a snapshot of what it loaded."""
    lock_wait_s: float | None = None
    """How long a request waits for its aggregate's lock before answering that the store is
    unavailable (``OperationalError``: 503). A holder waits on the database for at most the
    store's own bound; without this, in an outage, a request queued behind others sharing its
    stripe waited for all of them, far past the bound (seen in the fault suite). None: wait."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._one_query: SnapshotAndEvents | None = None
        recorders = (getattr(self.snapshot_store, "recorder", None),
                     self.event_store.recorder)
        if all(isinstance(r, PostgresAggregateRecorder) for r in recorders):
            self._one_query = SnapshotAndEvents(*recorders)  # type: ignore[arg-type]

    def _stripe(self, aggregate_id: UUID) -> AbstractContextManager[None]:
        return _taken(self._stripes[hash(aggregate_id) % _STRIPES], self.lock_wait_s,
                      "requests on the same aggregates")

    def get(self, aggregate_id: UUID, *, version: int | None = None,
            **kwargs: Any) -> Any:
        if version is not None or not self.cache:
            return super().get(aggregate_id, version=version, **kwargs)
        with self._stripe(aggregate_id):
            return super().get(aggregate_id, **kwargs)

    def cached(self, aggregate_id: UUID) -> Any:
        """A copy of the cached aggregate as it is, without a query; loaded when not cached."""
        if self.cache:
            with self._stripe(aggregate_id):
                try:
                    aggregate = self.cache.get(aggregate_id)
                except KeyError:
                    pass
                else:
                    return deepcopy(aggregate) if self.deepcopy_from_cache else aggregate
        return self.get(aggregate_id)

    def peek(self, aggregate_id: UUID) -> Any:
        """The cached aggregate itself, not a copy, without a query; None when not cached.
        Only to read a field whose stale value the caller can tell and correct."""
        if not self.cache:
            return None
        with self._stripe(aggregate_id):
            try:
                return self.cache.get(aggregate_id)
            except KeyError:
                return None

    def remember(self, aggregates: Iterable[Any]) -> None:
        """Puts a copy of each saved aggregate in the cache, unless it holds a newer one
        already (another thread fast-forwarded it past this save meanwhile)."""
        if not self.cache:
            return
        for aggregate in aggregates:
            with self._stripe(aggregate.id):
                try:
                    known = self.cache.get(aggregate.id)
                except KeyError:
                    known = None
                if known is None or known.version < aggregate.version:
                    self.cache.put(aggregate.id, deepcopy(aggregate))

    def _reconstruct_aggregate(self, aggregate_id: UUID, version: int | None,
                               projector_func: Any) -> Any:
        """The library's, with two changes: a snapshot that the current code did not take is
        not used, and a load that replayed many events stores a snapshot of its result."""
        snapshots, events = self._snapshot_and_events(aggregate_id, version)
        aggregate = projector_func(None, chain(snapshots, events))
        if aggregate is None:
            raise AggregateNotFoundError(
                f"Aggregate {aggregate_id!r} version {version!r} not found.")
        if (self.snapshot_store is not None and len(events) >= self.SNAPSHOT_AFTER
                and type(aggregate) in SNAPSHOTS):
            self._store_snapshot(aggregate)
        return aggregate

    def _snapshot_and_events(self, aggregate_id: UUID,
                             version: int | None) -> tuple[list[Any], list[Any]]:
        """The latest current snapshot (none if the latest was taken by other code) and the
        events after it: in one query on PostgreSQL, else as the library reads them."""
        if self.snapshot_store is None:
            return [], list(self.event_store.get(originator_id=aggregate_id, lte=version))
        if self._one_query is not None:
            stored, after_it = self._one_query.select(aggregate_id, version)
            snapshot = stored and self.snapshot_store.mapper.to_domain_event(stored)
            if snapshot is None or _current(snapshot):
                return [snapshot] if snapshot else [], [
                    self.event_store.mapper.to_domain_event(e) for e in after_it]
            return [], list(self.event_store.get(originator_id=aggregate_id, lte=version))
        snapshots = [s for s in self.snapshot_store.get(
            originator_id=aggregate_id, desc=True, limit=1, lte=version) if _current(s)]
        after = snapshots[0].originator_version if snapshots else None
        return snapshots, list(self.event_store.get(originator_id=aggregate_id, gt=after,
                                                    lte=version))

    def _store_snapshot(self, aggregate: Any) -> None:
        assert self.snapshot_store is not None
        try:
            self.snapshot_store.put([AggregateSnapshot.take(aggregate)])
        except IntegrityError:
            pass  # another load took the same snapshot at the same time
        except Exception:  # a cache: the load stands without it
            log.warning("snapshot of %s not stored", aggregate.id, exc_info=True)


def _current(snapshot: Any) -> bool:
    """A snapshot that the current code did not take is not used."""
    return bool(getattr(snapshot, "is_current", lambda: False)())
