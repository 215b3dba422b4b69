"""The embedded mode's SQLite views database gets the same numbered migrations."""

from pathlib import Path

from services.notifications.service import build_embedded
from shared.storage.audit import AuditLog
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.migrations import MIGRATIONS, migrate
from shared.storage.sqldb import SqliteDatabase


def test_a_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "views.sqlite")
    assert migrate(db) == [migration.number for migration in MIGRATIONS]
    assert migrate(db) == []
    with db.transaction() as tx:
        tables = {row[0] for row in tx.execute("SELECT name FROM sqlite_master")}
    assert {"relay_positions", "notification_deliveries", "read_audit"} <= tables


def test_the_notifier_and_the_audit_find_their_tables_made_by_the_migrations(
        tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "views.sqlite")
    build_embedded(db, lambda _, ids: set(), lambda _: None)
    AuditLog(db, AuditAnchor(b"k" * 32, tmp_path / "audit-checkpoints.jsonl"))
    with db.transaction() as tx:
        applied = [row[0] for row in tx.execute(
            "SELECT number FROM schema_migrations ORDER BY number")]
    assert applied == [migration.number for migration in MIGRATIONS]
