"""Numbered, forward-only migrations for the tables that hold facts which cannot be rebuilt
from the event store (issue 9, item 5).

A few lines of our own rather than a library: the tables are few, the migrations are plain
SQL that both databases accept, and they must run inside the same advisory lock as the
projections' own ``CREATE TABLE`` (``Database.schema_transaction``) so that processes started
together on an empty database never race. Each migration runs once, in order, recorded in
``schema_migrations``; a migration is never edited once merged, a change is a new number.

Projection tables are not migrated: a projection whose shape changes is rebuilt
(``shared.projecting.prepare``), under the same lock."""

from collections.abc import Collection

from shared.sqldb import Database

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "relay positions", (
        # IF NOT EXISTS: databases made before migrations existed already have it.
        """CREATE TABLE IF NOT EXISTS relay_positions (
            name TEXT PRIMARY KEY, position BIGINT NOT NULL)""",
    )),
    # 2 and 3: reserved (notification tables, read audit). Numbers need not be contiguous:
    # each runs once, in the order of this tuple, whatever ran before it.
    (4, "idempotency keys", (
        # Written in the transaction that appends a command's events (shared.idempotency),
        # so it lives in the event store's database: the journal's recorder applies this
        # migration to its own store. recorded_at: UTC text of fixed width, sorts as time.
        """CREATE TABLE IF NOT EXISTS idempotency_keys (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            pathway_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            status_code INTEGER NOT NULL,
            answer TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (scope, key))""",
        """CREATE INDEX IF NOT EXISTS idempotency_keys_recorded_at
            ON idempotency_keys (recorded_at)""",
    )),
)
"""(number, what, statements). Unfinished: the notification tables are still created by the
notifications projection (under the same lock); moving them here is a later migration."""

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    number INTEGER PRIMARY KEY, what TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def migrate(db: Database, wanted: Collection[int] | None = None) -> list[int]:
    """Applies the migrations this database has not seen yet (only the ``wanted`` ones if
    given: the event store of the embedded mode holds the idempotency keys, not the views'
    tables); returns their numbers."""
    applied: list[int] = []
    with db.schema_transaction() as tx:
        tx.execute(_LEDGER)
        done = {int(row[0]) for row in tx.execute("SELECT number FROM schema_migrations")}
        for number, what, statements in MIGRATIONS:
            if number in done or (wanted is not None and number not in wanted):
                continue
            for statement in statements:
                tx.execute(statement)
            tx.execute("INSERT INTO schema_migrations (number, what, applied_at) "
                       "VALUES (:number, :what, CURRENT_TIMESTAMP)",
                       {"number": number, "what": what})
            applied.append(number)
    return applied
