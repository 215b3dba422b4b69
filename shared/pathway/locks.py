"""Serialising what must not run at once: the decisions on a territory's places, and the
repository's copies of cached aggregates.

A territory's places are one aggregate that every admission and closure of the territory
changes; left optimistic, concurrent admissions conflict and exhaust their retries. They are
taken one at a time instead: a lock per territory in this process, and on PostgreSQL an
advisory lock too, so that several API processes also take turns."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Repository

ADVISORY_CLASS = 0x5041  # "PA": the first key of Parcours' advisory locks
_STRIPES = 64


class TerritoryLocks:
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
        with lock:
            if not self._postgres:
                yield
                return
            connection = self._connection(territory)
            try:
                connection.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                                   (ADVISORY_CLASS, territory))
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
                password=env.get("POSTGRES_PASSWORD") or None, autocommit=True)
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
    around both."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]

    def get(self, aggregate_id: UUID, *, version: int | None = None,
            **kwargs: Any) -> Any:
        if version is not None or not self.cache:
            return super().get(aggregate_id, version=version, **kwargs)
        with self._stripes[hash(aggregate_id) % _STRIPES]:
            return super().get(aggregate_id, **kwargs)
