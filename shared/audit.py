"""The read audit: every read of a person's file, who, in which role, when, what, from which
address, and whether it was allowed. Append-only: the database itself refuses to change or
delete a record."""

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from shared.sqldb import Database

TABLE = "read_audit"
COLUMNS = ("id", "at", "actor_id", "actor_role", "territory", "action", "pathway_id",
           "outcome", "address")

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
    territory TEXT, action TEXT NOT NULL, pathway_id TEXT NOT NULL, outcome TEXT NOT NULL,
    address TEXT)"""

_APPEND_ONLY = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{verb} BEFORE {verb.upper()} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the read audit is append-only'); END"""
        for verb in ("update", "delete")
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION parcours_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            RAISE EXCEPTION 'the read audit is append-only';
        END $$""",
        f"""CREATE OR REPLACE TRIGGER {TABLE}_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION parcours_append_only()""",
    ],
}


@dataclass(frozen=True)
class Access:
    at: datetime
    actor_id: str
    actor_role: str
    territory: str | None
    action: str
    pathway_id: str
    outcome: str
    address: str | None


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            tx.execute(_DDL)
            for ddl in _APPEND_ONLY[db.dialect]:
                tx.execute(ddl)

    def record(self, access: Access) -> None:
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES "
                       f"({', '.join(':' + c for c in COLUMNS)})",
                       {"id": str(uuid4()), **vars(access), "at": access.at.isoformat()})

    def of_pathway(self, pathway_id: str) -> list[dict[str, str | None]]:
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} "
                              "WHERE pathway_id = :id ORDER BY at, id", {"id": pathway_id})
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
