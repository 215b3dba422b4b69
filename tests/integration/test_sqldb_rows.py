"""``execute_many`` sends a batch's INSERT as one JSON array on PostgreSQL: the rows stored must
be those SQLite stores from the same statement, one row at a time."""

from pathlib import Path
from typing import Any

from shared.runtime.settings import Settings
from shared.storage.sqldb import Database, PostgresDatabase, SqliteDatabase

TABLE = ("CREATE TABLE rows_kept (key TEXT PRIMARY KEY, n INTEGER NOT NULL, big BIGINT,"
         " label TEXT, state TEXT NOT NULL)")
UPSERT = ("INSERT INTO rows_kept (key, n, big, label, state) VALUES (:k, :n, :big, :label,"
          " 'pending') ON CONFLICT (key) DO UPDATE SET n = excluded.n, label = excluded.label")
FIRST: list[dict[str, Any]] = [
    {"k": "a", "n": 1, "big": 2**40, "label": "100 % « accents », 'quotes', \"double\"\n"},
    {"k": "b", "n": -3, "big": None, "label": None},
    {"k": "c", "n": 0, "big": 7, "label": '{"json": [1, 2]}'},
]
SECOND: list[dict[str, Any]] = [
    {"k": "b", "n": 4, "big": 5, "label": "updated"},
    {"k": "d", "n": 5, "big": None, "label": "%(name)s %s"},
]


def _stored(db: Database) -> list[tuple[Any, ...]]:
    with db.transaction() as tx:
        tx.execute(TABLE)
    for rows in (FIRST, SECOND):
        with db.transaction() as tx:
            tx.execute_many(UPSERT, rows)
    with db.transaction() as tx:
        return tx.execute("SELECT key, n, big, label, state FROM rows_kept ORDER BY key")


def test_a_batch_insert_stores_what_sqlite_stores(settings: Settings, tmp_path: Path) -> None:
    postgres = PostgresDatabase(settings.database_url)
    try:
        stored = _stored(postgres)
    finally:
        postgres.close()
    assert stored == _stored(SqliteDatabase(tmp_path / "views.sqlite"))
    assert stored[1] == ("b", 4, None, "updated", "pending")  # not updated: big, state
