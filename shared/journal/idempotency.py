"""Idempotent commands: a client that did not get the answer to a command
(a timeout, a 503, a connection reset) sends it again with the same ``Idempotency-Key``, and
the command is applied once.

The key is recorded by the event store's own recorder, in the transaction that appends the
command's events (``insert_events(..., idempotency=record)``): either both are stored or
neither, so a key is never remembered for a command that was not applied, nor a command
applied without its key. A command sent again with a key already recorded is not run: the
journal raises ``AlreadyAppliedError`` with the answer recorded the first time, which the API
sends back as it was (same status, body, version). The same key with another request is the
client's mistake (422 ``idempotency.key_reused``).

Keys belong to whoever sent them (the token's subject): two clients cannot see each other's
answers through a key. They are kept ``IDEMPOTENCY_TTL_DAYS`` (the journal's env, from
``PARCOURS_IDEMPOTENCY_TTL_DAYS``, 7 by default): an older key no longer counts, and the
recorder deletes expired keys now and then, after a save.

Over 300 lines: the key, its answer and the three recorders (PostgreSQL, SQLite, in memory)
that store it in the events' transaction are one mechanism, read together."""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory
from psycopg.rows import tuple_row

from shared.domain.commands import Answer, Meta
from shared.domain.errors import ImplausibleInputError
from shared.journal.postgres import OneRoundTripRecorder
from shared.storage.migrations import migrate
from shared.storage.sqldb import SCHEMA_LOCK_KEY, Database, Params, Row, Tx, _psycopg_sql

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
DEFAULT_TTL_DAYS = 7
TTL_ENV = "IDEMPOTENCY_TTL_DAYS"
MIGRATION = 4
"""The numbered migration (``shared.storage.migrations``) that creates the table."""
PURGE_EVERY_S = 3600.0
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: the text sorts as time


@dataclass(frozen=True)
class Record:
    scope: str
    key: str
    fingerprint: str
    pathway_id: UUID
    version: int
    answer: Answer
    recorded_at: datetime


class AlreadyAppliedError(Exception):
    """The command was applied before under this key: here is its answer. Not a failure,
    the API sends the answer as it was."""

    def __init__(self, record: Record) -> None:
        super().__init__(f"already applied under key {record.key!r}")
        self.record = record


class KeyReusedError(ImplausibleInputError):
    def __init__(self) -> None:
        super().__init__(
            "idempotency.key_reused",
            "Cette clé d'idempotence (Idempotency-Key) a déjà servi pour une autre "
            "requête : utilisez une nouvelle clé pour une nouvelle commande, et la même clé "
            "seulement pour renvoyer exactement la même requête.")


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A digest of the request; a JSON body counts by its content, not its layout."""
    try:
        content: Any = json.loads(body) if body else None
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # not JSON: the bytes as they came
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


# -- what the journal calls -----------------------------------------------------------------

def replay_if_applied(recorder: ApplicationRecorder, meta: Meta) -> None:
    """Raises ``AlreadyAppliedError`` if the command was applied before under its key, or
    ``KeyReusedError`` if the key was used for another request; nothing without a key."""
    request = meta.idempotency
    if request is None:
        return
    found = _store(recorder).find_key(request.scope, request.key, _expired_before(recorder,
                                                                                 meta.now))
    if found is None:
        return
    if found.fingerprint != request.fingerprint:
        raise KeyReusedError()
    raise AlreadyAppliedError(found)


def saving(meta: Meta, pathway: Any) -> dict[str, Any]:
    """The keyword the journal passes to ``save`` so that the key is recorded with the
    command's events: nothing without a key."""
    request = meta.idempotency
    if request is None:
        return {}
    record = Record(scope=request.scope, key=request.key, fingerprint=request.fingerprint,
                    pathway_id=pathway.id, version=pathway.version,
                    answer=request.answer(pathway), recorded_at=meta.now)
    return {"idempotency": record}


# -- the recorders: the key in the events' transaction ------------------------------------

class KeyStore(Protocol):
    ttl: timedelta

    def find_key(self, scope: str, key: str, expired_before: datetime) -> Record | None: ...


def _store(recorder: ApplicationRecorder) -> KeyStore:
    if not hasattr(recorder, "find_key"):
        raise TypeError(f"{type(recorder).__name__} cannot record idempotency keys: build the "
                        "journal's recorder with shared.journal.idempotency.application_recorder")
    return recorder  # type: ignore[return-value]


def _expired_before(recorder: ApplicationRecorder, now: datetime) -> datetime:
    return now - _store(recorder).ttl


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def _row(record: Record) -> dict[str, Any]:
    return {"scope": record.scope, "key": record.key, "fingerprint": record.fingerprint,
            "pathway_id": str(record.pathway_id), "version": record.version,
            "status_code": record.answer.status_code,
            "answer": json.dumps({"body": record.answer.body,
                                  "headers": record.answer.headers}, ensure_ascii=False),
            "recorded_at": _text(record.recorded_at)}


def _record(row: Sequence[Any]) -> Record:
    scope, key, digest, pathway_id, version, status_code, answer, recorded_at = row
    stored = json.loads(answer)
    return Record(scope=scope, key=key, fingerprint=digest, pathway_id=UUID(str(pathway_id)),
                  version=int(version),
                  answer=Answer(int(status_code), stored["body"], stored["headers"]),
                  recorded_at=datetime.strptime(recorded_at, _TIME_FORMAT).replace(tzinfo=UTC))


_SELECT = ("SELECT scope, key, fingerprint, pathway_id, version, status_code, answer, "
           "recorded_at FROM idempotency_keys WHERE scope = :scope AND key = :key "
           "AND recorded_at >= :expired_before")
# An expired key may be used again: its old row goes first, in the same transaction.
_FORGET_EXPIRED = ("DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key "
                   "AND recorded_at < :expired_before")
_INSERT = ("INSERT INTO idempotency_keys (scope, key, fingerprint, pathway_id, version, "
           "status_code, answer, recorded_at) VALUES (:scope, :key, :fingerprint, "
           ":pathway_id, :version, :status_code, :answer, :recorded_at)")
_PURGE = "DELETE FROM idempotency_keys WHERE recorded_at < :expired_before"


class _Purging:
    """Deletes expired keys at most once per ``PURGE_EVERY_S`` per process, after a save and
    outside its transaction (a command never waits for the purge)."""

    ttl = timedelta(days=DEFAULT_TTL_DAYS)
    purge_every_s = PURGE_EVERY_S
    _last_purge = 0.0
    _purge_guard = threading.Lock()

    def _purge_due(self) -> bool:
        with self._purge_guard:
            if time.monotonic() - self._last_purge < self.purge_every_s:
                return False
            self._last_purge = time.monotonic()
            return True

    def _row_for(self, record: Record) -> dict[str, Any]:
        row = _row(record)
        row["expired_before"] = _text(record.recorded_at - self.ttl)
        return row


@contextmanager
def _after_save(store: str) -> Iterator[None]:
    """The command is saved already: a failed purge is logged, not the command's failure
    (the next purge, an hour later, deletes what this one left)."""
    try:
        yield
    except Exception:
        log.warning("expired idempotency keys not purged from %s this time", store,
                    exc_info=True)


class PostgresKeyRecorder(_Purging, OneRoundTripRecorder):
    def find_key(self, scope: str, key: str, expired_before: datetime) -> Record | None:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as c:
            c.execute(_psycopg_sql(_SELECT), {"scope": scope, "key": key,
                                           "expired_before": _text(expired_before)})
            row = c.fetchone()
        return _record(row) if row else None

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        # The library calls this first in the transaction that inserts the events.
        record: Record | None = kwargs.get("idempotency")
        if record is not None:
            row = self._row_for(record)
            curs.execute(_psycopg_sql(_FORGET_EXPIRED), row)
            curs.execute(_psycopg_sql(_INSERT), row)
        super()._insert_events(curs, stored_events, **kwargs)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        record: Record | None = kwargs.get("idempotency")
        if record is not None and self._purge_due():
            with _after_save("PostgreSQL"), self.datastore.get_connection() as conn:
                conn.execute(_psycopg_sql(_PURGE),
                             {"expired_before": _text(record.recorded_at - self.ttl)})
        return ids

    def create_table(self) -> None:
        super().create_table()
        migrate(_PostgresStore(self), wanted={MIGRATION})


class SQLiteKeyRecorder(_Purging, SQLiteApplicationRecorder):
    def find_key(self, scope: str, key: str, expired_before: datetime) -> Record | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(_SELECT, {"scope": scope, "key": key,
                                "expired_before": _text(expired_before)})
            row = c.fetchone()
        return _record(tuple(row)) if row else None

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        record: Record | None = kwargs.get("idempotency")
        if record is not None:
            row = self._row_for(record)
            c.execute(_FORGET_EXPIRED, row)
            c.execute(_INSERT, row)  # a key recorded meanwhile: IntegrityError, all undone
        return super()._insert_events(c, stored_events, **kwargs)

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        record: Record | None = kwargs.get("idempotency")
        if record is not None and self._purge_due():
            with _after_save("SQLite"), self.datastore.transaction(commit=True) as c:
                c.execute(_PURGE, {"expired_before": _text(record.recorded_at - self.ttl)})
        return ids

    def create_table(self) -> None:
        super().create_table()
        migrate(_SQLiteStore(self), wanted={MIGRATION})


class POPOKeyRecorder(_Purging, POPOApplicationRecorder):
    """The library's in-memory store (unit tests): keys in a dict, under the store's lock."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[tuple[str, str], Record] = {}

    def find_key(self, scope: str, key: str, expired_before: datetime) -> Record | None:
        with self._database_lock:
            found = self._keys.get((scope, key))
        return found if found and found.recorded_at >= expired_before else None

    def _insert_events(self, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        record: Record | None = kwargs.get("idempotency")
        with self._database_lock:
            if record is not None:
                held = self._keys.get((record.scope, record.key))
                if held and held.recorded_at >= record.recorded_at - self.ttl:
                    raise IntegrityError(f"idempotency key recorded already: {record.key!r}")
            ids = super()._insert_events(stored_events, **kwargs)
            if record is not None:
                self._keys[(record.scope, record.key)] = record
            return ids


def use_key_recorders(factory: InfrastructureFactory[Any]) -> None:
    """Makes the factory build the recorder that records keys, for the store it opens."""
    topic = factory.APPLICATION_RECORDER_TOPIC
    if factory.env.get(topic):
        return  # chosen explicitly: left alone (it must record keys to take any)
    if isinstance(factory, PostgresFactory):
        chosen: type = PostgresKeyRecorder
        if factory.env.get(factory.POSTGRES_ENABLE_DB_FUNCTIONS, "no").lower() in (
                "y", "yes", "t", "true", "on", "1"):
            raise ValueError("POSTGRES_ENABLE_DB_FUNCTIONS bypasses the recorder's "
                             "transaction: idempotency keys need it off")
    elif isinstance(factory, SQLiteFactory):
        chosen = SQLiteKeyRecorder
    else:
        chosen = POPOKeyRecorder
    factory.env[topic] = f"{chosen.__module__}:{chosen.__qualname__}"


def application_recorder(factory: InfrastructureFactory[Any]) -> ApplicationRecorder:
    """The journal's recorder: the library's, recording idempotency keys too."""
    use_key_recorders(factory)
    recorder = factory.application_recorder()
    days = factory.env.get(TTL_ENV)
    if isinstance(recorder, _Purging) and days:
        recorder.ttl = timedelta(days=float(days))
    return recorder


# -- migrating the event store through its own connections --------------------------------

class _PostgresStore(Database):
    dialect = "postgresql"

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.datastore = recorder.datastore

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as cursor:
            yield _CursorTx(cursor, _psycopg_sql, self.dialect)

    @contextmanager
    def schema_transaction(self) -> Iterator[Tx]:
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(:key)", {"key": SCHEMA_LOCK_KEY})
            yield tx


class _SQLiteStore(Database):
    dialect = "sqlite"

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.datastore = recorder.datastore

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=True) as cursor:
            yield _CursorTx(cursor, lambda sql: sql, self.dialect)


class _CursorTx(Tx):
    def __init__(self, cursor: Any, translate: Callable[[str], str], dialect: str) -> None:
        self.cursor, self.translate, self.dialect = cursor, translate, dialect

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        self.cursor.execute(self.translate(sql), params or {})
        raw = getattr(self.cursor, "sqlite_cursor", self.cursor)
        if raw.description is None:  # a statement without rows
            return []
        return [tuple(row) for row in self.cursor.fetchall()]

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        for row in rows:
            self.execute(sql, row)
