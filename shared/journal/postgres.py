"""The event store's two hot paths on PostgreSQL, each in one round trip: a save
(``OneRoundTripRecorder``) and a cold load (``SnapshotAndEvents``).

A save.

The library's recorder writes a save in a psycopg pipeline, but wraps it in ``transaction()``,
which psycopg nests in pipelines of its own and syncs at each level: BEGIN, the statements,
the explicit sync after the INSERT, COMMIT and the outer pipeline's exit each waited for the
server, five round trips for one save, two of them while the table lock was held. Even in one
pipeline, each statement is a message psycopg flushes by itself, and the client's CPU for them
cost more than the raw transaction it is compared with (``bench/journal_append.py``).

Here the same statements, in the same order and in one transaction, go as one simple query:
BEGIN, what a subclass records with the events (``_insert_events``), the lock and NOTIFY, the
INSERT, COMMIT. Parameters are bound by psycopg on the client (``ClientCursor.mogrify``, which
quotes with the server's own rules); the server plans these small statements each time, which
costs less than the messages saved.

Nothing is weakened: the table lock is taken before the INSERT as before, so notification ids
still follow commit order; a statement that fails stops the query, the server skips the rest
(COMMIT included), and the transaction is rolled back before the connection goes back to the
pool.

A cold load: the library asks for the latest snapshot, then for the events after it, two
round trips (the first one useless for the aggregates never snapshotted, such as the person
index every referral looks up). One statement reads both, in one snapshot of the data."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


class _Statements:
    """Stands for the cursor a subclass's ``_insert_events`` executes on: keeps each
    statement, its parameters bound, to send them all at once."""

    def __init__(self, cursor: ClientCursor[Any]) -> None:
        self.cursor = cursor
        self.sql: list[str] = []

    def execute(self, query: Any, params: Any = None, **_: Any) -> None:
        self.sql.append(self.cursor.mogrify(query, params))


class OneRoundTripRecorder(PostgresApplicationRecorder):
    _locked_insert: tuple[list[str], str] | None = None

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        assert not self.datastore.enable_db_functions  # their function commits by itself
        with self.datastore.get_connection() as conn, \
                ClientCursor(conn, row_factory=tuple_row) as cursor:
            assert conn.autocommit  # BEGIN and COMMIT are ours
            batch = _Statements(cursor)
            batch.sql.append("BEGIN")
            self._insert_events(batch, stored_events, **kwargs)  # type: ignore[arg-type]
            if stored_events:
                lock, insert = self._statements(cursor)
                # One row per event rather than the library's array of composites: psycopg
                # quotes these four columns in C, a composite in Python.
                rows = ", ".join(["(%s, %s, %s, %s)"] * len(stored_events))
                batch.sql.extend(lock)
                batch.sql.append(cursor.mogrify(insert + rows + " RETURNING notification_id", [
                    value for event in stored_events for value in (
                        event.originator_id, event.originator_version, event.topic,
                        event.state)]))
            batch.sql.append("COMMIT")
            try:
                # Each text is new: not worth psycopg's bookkeeping of what to prepare.
                cursor.execute("; ".join(batch.sql), prepare=False)
            except BaseException:
                if not conn.closed and conn.info.transaction_status in _OPEN:
                    conn.rollback()
                raise
            if not stored_events:
                return None
            for _ in range(len(batch.sql) - 2):  # to the INSERT's result, before COMMIT's
                cursor.nextset()
            ids = [row[0] for row in cursor.fetchall()]
            if len(ids) != len(stored_events):
                raise ProgrammingError(f"{len(ids)} notification ids for "
                                       f"{len(stored_events)} events")
            return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *,
                             inclusive_of_start: bool = True) -> Sequence[Notification]:
        """The library's query, its rows read as tuples: the dict of each row was a fifth of
        the relay reader's reading time (and the replay's)."""
        conditions: list[str] = []
        params: list[Any] = []
        if start is not None:
            conditions.append("notification_id >= %s" if inclusive_of_start
                              else "notification_id > %s")
            params.append(start)
        if stop is not None:
            conditions.append("notification_id <= %s")
            params.append(stop)
        if topics:
            conditions.append("topic = ANY(%s)")
            params.append(list(topics))
        params.append(limit)
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {0}.{1}{2} ORDER BY notification_id LIMIT %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name),
                 SQL(" WHERE " + " AND ".join(conditions) if conditions else ""))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as c:
            c.execute(statement, params, prepare=True)
            return [Notification(id=id_, originator_id=originator_id,
                                 originator_version=version, topic=topic, state=bytes(state))
                    for id_, originator_id, version, topic, state in c.fetchall()]

    def _statements(self, cursor: ClientCursor[Any]) -> tuple[list[str], str]:
        """The library's table lock and NOTIFY, and the INSERT's head, as text."""
        if self._locked_insert is None:
            lock = [*self.lock_table_statements,
                    SQL("NOTIFY {0}").format(Identifier(self.channel_name))]
            insert = SQL("INSERT INTO {0}.{1} (originator_id, originator_version, topic, "
                         "state) VALUES ").format(Identifier(self.datastore.schema),
                                                  Identifier(self.events_table_name))
            self._locked_insert = ([_text(q, cursor) for q in lock],
                                   insert.as_string(cursor))
        return self._locked_insert


def _text(query: Any, cursor: ClientCursor[Any]) -> str:
    return query if isinstance(query, str) else str(query.as_string(cursor))


class SnapshotAndEvents:
    """The latest snapshot up to a version, and the events after it up to that version."""

    def __init__(self, snapshots: PostgresAggregateRecorder,
                 events: PostgresAggregateRecorder) -> None:
        self.datastore = events.datastore
        schema = Identifier(events.datastore.schema)
        self._statements = {
            bounded: SQL(
                "WITH snapshot AS (SELECT originator_version, topic, state FROM {0}.{1} "
                "WHERE originator_id = %(id)s{bound} ORDER BY originator_version DESC LIMIT 1) "
                "SELECT true, originator_version, topic, state FROM snapshot UNION ALL "
                "SELECT false, originator_version, topic, state FROM {0}.{2} "
                "WHERE originator_id = %(id)s AND originator_version > "
                "COALESCE((SELECT originator_version FROM snapshot), 0){bound}"
            ).format(schema, Identifier(snapshots.events_table_name),
                     Identifier(events.events_table_name),
                     bound=SQL(" AND originator_version <= %(lte)s" if bounded else ""))
            for bounded in (False, True)}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select(self, aggregate_id: Any,
               lte: int | None) -> tuple[StoredEvent | None, list[StoredEvent]]:
        statement: Composed = self._statements[lte is not None]
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as c:
            c.execute(statement, {"id": aggregate_id, "lte": lte}, prepare=True)
            rows = c.fetchall()
        snapshot = None
        events = []
        for is_snapshot, version, topic, state in rows:
            stored = StoredEvent(originator_id=aggregate_id, originator_version=version,
                                 topic=topic, state=bytes(state))
            if is_snapshot:
                snapshot = stored
            else:
                events.append(stored)
        events.sort(key=lambda e: e.originator_version)  # UNION ALL promises no order
        return snapshot, events
