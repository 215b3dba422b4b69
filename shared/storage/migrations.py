"""Numbered, forward-only migrations for the tables that hold facts which cannot be rebuilt
from the event store: relay positions, notification deliveries and preferences, the read
audit (on SQLite), idempotency records, the ADT intake's keys and counts.

A few lines of our own rather than a library: the tables are few, the migrations are plain
SQL that both databases accept, and they must run inside the same advisory lock as the
projections' own ``CREATE TABLE`` (``Database.schema_transaction``) so that processes started
together on an empty database never race. Each migration runs once, in order, recorded in
``schema_migrations``; a migration is never edited once merged, a change is a new number.

Projection tables are not migrated: a projection whose shape changes is rebuilt
(``shared.streaming.projecting.prepare``), under the same lock."""

from collections.abc import Collection
from dataclasses import dataclass

from shared.storage.sqldb import Database, Tx

BOTH = ("postgresql", "sqlite")


@dataclass(frozen=True)
class Migration:
    number: int
    what: str
    statements: tuple[str, ...]
    dialects: tuple[str, ...] = BOTH
    """Where it applies; elsewhere it is recorded as applied and does nothing."""


_NOTIFICATIONS = (
    """CREATE TABLE IF NOT EXISTS notification_preferences (
        professional_id TEXT PRIMARY KEY,
        channels TEXT NOT NULL,
        webhook_url TEXT,
        email TEXT,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS notification_alerts (
        alert_id TEXT PRIMARY KEY,
        pathway_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        due_at TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        status TEXT NOT NULL,
        status_changed_at TEXT)""",
    # One row per (alert, professional, channel): a copy of an alert can never add a second.
    """CREATE TABLE IF NOT EXISTS notification_deliveries (
        delivery_id TEXT PRIMARY KEY,
        seq BIGINT NOT NULL UNIQUE,
        alert_id TEXT NOT NULL,
        professional_id TEXT NOT NULL,
        recipient_name TEXT NOT NULL,
        recipient_role TEXT NOT NULL,
        channel TEXT NOT NULL,
        destination TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        last_error TEXT,
        UNIQUE (alert_id, professional_id, channel))""",
    """CREATE INDEX IF NOT EXISTS notification_deliveries_due
        ON notification_deliveries (status, next_attempt_at)""",
    """CREATE INDEX IF NOT EXISTS notification_deliveries_stream
        ON notification_deliveries (professional_id, channel, seq)""",
    """CREATE TABLE IF NOT EXISTS notification_log (
        entry_id BIGINT PRIMARY KEY,
        delivery_id TEXT NOT NULL,
        at TEXT NOT NULL,
        outcome TEXT NOT NULL,
        attempt INTEGER,
        http_status INTEGER,
        error TEXT)""",
    """CREATE INDEX IF NOT EXISTS notification_log_delivery
        ON notification_log (delivery_id, entry_id)""",
    # Counters, not database sequences: both databases share this. The row lock taken by the
    # increment is held to commit, so sequence order is commit order: a stream client that has
    # seen seq N can never later miss a smaller one.
    """CREATE TABLE IF NOT EXISTS notification_counters (
        name TEXT PRIMARY KEY, value BIGINT NOT NULL)""",
    *[f"""INSERT INTO notification_counters (name, value) VALUES ('{name}', 0)
        ON CONFLICT (name) DO NOTHING""" for name in ("delivery", "log")],
    """CREATE TABLE IF NOT EXISTS notification_secrets (
        name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)""",
    # One signing secret per webhook subscription, issued for the address it was shown with.
    """CREATE TABLE IF NOT EXISTS notification_webhook_secrets (
        professional_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        webhook_url TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    # What the professional is told on their stream besides alerts (a channel changed). Their
    # seq comes from the deliveries' counter, so one Last-Event-ID orders both.
    """CREATE TABLE IF NOT EXISTS notification_notices (
        seq BIGINT PRIMARY KEY,
        professional_id TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL)""",
)

_READ_AUDIT_SQLITE = (
    """CREATE TABLE IF NOT EXISTS read_audit (
        seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL,
        actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, territory TEXT,
        action TEXT NOT NULL, pathway_id TEXT NOT NULL, outcome TEXT NOT NULL, address TEXT,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS read_audit_pathway ON read_audit (pathway_id, at)",
    # Its append-only triggers are not a migration: ``shared.storage.audit`` puts them back at each
    # start, in case someone dropped them.
)

# IF NOT EXISTS throughout: databases made before migrations existed already have the tables.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "relay positions", (
        """CREATE TABLE IF NOT EXISTS relay_positions (
            name TEXT PRIMARY KEY, position BIGINT NOT NULL)""",
    )),
    Migration(2, "notification deliveries, preferences, secrets and notices", _NOTIFICATIONS),
    # On PostgreSQL the read audit lives in schema ``audit``, owned by another role that the
    # application's role cannot use to alter it: ``infra/postgres.sh`` makes it, as a DBA would.
    Migration(3, "read audit", _READ_AUDIT_SQLITE, dialects=("sqlite",)),
    Migration(4, "idempotency keys", (
        # Written in the transaction that appends a command's events (shared.journal.idempotency),
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
    Migration(5, "ADT intake: applied message keys, movements, counts of unmatched persons", (
        """CREATE TABLE IF NOT EXISTS hl7_applied (
            sender TEXT NOT NULL, control_id TEXT NOT NULL, movement_id TEXT NOT NULL,
            pathway_id TEXT NOT NULL, received_at TEXT NOT NULL,
            PRIMARY KEY (sender, control_id, movement_id))""",
        """CREATE TABLE IF NOT EXISTS hl7_unmatched (
            sender TEXT NOT NULL, day TEXT NOT NULL, reason TEXT NOT NULL,
            count INTEGER NOT NULL, PRIMARY KEY (sender, day, reason))""",
        """CREATE TABLE IF NOT EXISTS hl7_movements (
            sender TEXT NOT NULL, movement_id TEXT NOT NULL, pathway_id TEXT NOT NULL,
            event_id TEXT NOT NULL, PRIMARY KEY (sender, movement_id))""",
    )),
    Migration(6, "web sessions: opened, when they end, signed out", (
        """CREATE TABLE IF NOT EXISTS web_sessions (
            sid_hash TEXT PRIMARY KEY, professional_id TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
            revoked_at DOUBLE PRECISION)""",
    )),
    Migration(7, "ADT intake: messages answered AE for an identity-vigilance incident", (
        """CREATE TABLE IF NOT EXISTS hl7_vigilance (
            sender TEXT NOT NULL, control_id TEXT NOT NULL, movement_id TEXT NOT NULL,
            pathway_id TEXT NOT NULL, traits TEXT NOT NULL, received_at TEXT NOT NULL,
            PRIMARY KEY (sender, control_id, movement_id))""",
    )),
)

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    number INTEGER PRIMARY KEY, what TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def migrate(db: Database, wanted: Collection[int] | None = None) -> list[int]:
    """Applies the migrations this database has not seen yet; returns their numbers.
    ``wanted``: only these (the embedded mode's event store holds the idempotency keys, not
    the views' tables); the others stay pending there."""
    with db.schema_transaction() as tx:
        return apply_pending(tx, wanted)


def apply_pending(tx: Tx, wanted: Collection[int] | None = None) -> list[int]:
    """The same, inside a schema transaction already open (``Database.schema_transaction``)."""
    applied: list[int] = []
    tx.execute(_LEDGER)
    done = {int(row[0]) for row in tx.execute("SELECT number FROM schema_migrations")}
    for migration in MIGRATIONS:
        if migration.number in done or (wanted is not None and migration.number not in wanted):
            continue
        if tx.dialect in migration.dialects:
            for statement in migration.statements:
                tx.execute(statement)
        tx.execute("INSERT INTO schema_migrations (number, what, applied_at) "
                   "VALUES (:number, :what, CURRENT_TIMESTAMP)",
                   {"number": migration.number, "what": migration.what})
        applied.append(migration.number)
    return applied
