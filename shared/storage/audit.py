"""The read audit: every response that names a person, one record per person named: who, in
which role, when, what, from which address, and whether it was allowed.

Append-only twice over. On PostgreSQL the table lives in schema ``audit``, owned by another
role (``infra/postgres.sh`` makes it); the application's role may only INSERT and SELECT there,
so it can neither drop the trigger nor delete a record, and the platform refuses to start when
it could. On both stores every record carries the hash of the one before it (``prev_hash`` →
``hash``, SHA-256 over the record), so a record removed or changed by someone with more rights
breaks the chain: ``parcours audit verify`` says where."""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from shared.storage.migrations import migrate
from shared.storage.sqldb import Database, Tx

FIELDS = ("id", "at", "actor_id", "actor_role", "territory", "action", "pathway_id",
          "outcome", "address")
COLUMNS = ("seq", *FIELDS, "prev_hash", "hash")
GENESIS = "0" * 64
_LOCK = 7_311_042  # the advisory lock that orders appends to the chain on PostgreSQL

_SQLITE_GUARDS = [
    f"""CREATE TRIGGER IF NOT EXISTS read_audit_chain_no_{verb}
        BEFORE {verb.upper()} ON read_audit
        BEGIN SELECT RAISE(ABORT, 'the read audit is append-only'); END"""
    for verb in ("update", "delete")]


class AuditSetupError(RuntimeError):
    """The audit is missing or writable beyond appending: the platform must not start."""


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


@dataclass(frozen=True)
class Verdict:
    intact: bool
    records: int
    broken_at: int | None = None
    reason: str = ""


def record_hash(prev_hash: str, seq: int, values: dict[str, object]) -> str:
    canonical = json.dumps([seq, *(values[f] for f in FIELDS), prev_hash],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = "audit.read_audit" if db.dialect == "postgresql" else "read_audit"
        with db.transaction() as tx:
            if db.dialect == "postgresql":
                _check_postgres(tx)
            else:
                columns = {row[1] for row in tx.execute("PRAGMA table_info(read_audit)")}
                if columns and "seq" not in columns:
                    # Written before the chain: kept aside, unchanged, for whoever audits it.
                    tx.execute("ALTER TABLE read_audit RENAME TO read_audit_unchained")
        migrate(db)  # on SQLite the table is migration 3; on PostgreSQL the DBA's
        if db.dialect == "sqlite":
            with db.transaction() as tx:
                for guard in _SQLITE_GUARDS:  # put back at each start
                    tx.execute(guard)

    def record(self, access: Access) -> None:
        self.record_many([access])

    def record_many(self, accesses: Sequence[Access]) -> None:
        """Appends the records in one insert, chained after the last one."""
        if not accesses:
            return
        with self.db.transaction() as tx:
            if self.db.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(:lock)", {"lock": _LOCK})
            # SQLite: the transaction is BEGIN IMMEDIATE, already one writer at a time.
            last = tx.one(f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1")
            seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
            rows, params = [], {}
            for n, access in enumerate(accesses):
                seq += 1
                values: dict[str, object] = {**vars(access), "id": str(uuid4()),
                                             "at": access.at.isoformat()}
                digest = record_hash(prev, seq, values)
                row = {"seq": seq, **values, "prev_hash": prev, "hash": digest}
                rows.append("(" + ", ".join(f":{c}_{n}" for c in COLUMNS) + ")")
                params.update({f"{c}_{n}": row[c] for c in COLUMNS})
                prev = digest
            tx.execute(f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES "
                       + ", ".join(rows), params)

    def of_pathway(self, pathway_id: str) -> list[dict[str, str | None]]:
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {', '.join(FIELDS)} FROM {self.table} "
                              "WHERE pathway_id = :id ORDER BY seq", {"id": pathway_id})
        return [dict(zip(FIELDS, row, strict=True)) for row in rows]

    def verify(self, batch: int = 5000) -> Verdict:
        """Walks the whole chain: each record's hash, and its link to the one before."""
        prev, expected_seq, count = GENESIS, 1, 0
        while True:
            with self.db.transaction() as tx:
                rows = tx.execute(f"SELECT {', '.join(COLUMNS)} FROM {self.table} "
                                  "WHERE seq >= :from ORDER BY seq LIMIT :n",
                                  {"from": expected_seq, "n": batch})
            if not rows:
                return Verdict(True, count)
            for row in rows:
                found = dict(zip(COLUMNS, row, strict=True))
                seq = int(str(found["seq"]))
                if seq != expected_seq:
                    return Verdict(False, count, expected_seq, "a record is missing")
                if found["prev_hash"] != prev:
                    return Verdict(False, count, seq, "the link to the previous record is broken")
                if record_hash(prev, seq, found) != found["hash"]:
                    return Verdict(False, count, seq, "the record was changed")
                prev, expected_seq, count = str(found["hash"]), seq + 1, count + 1


def _check_postgres(tx: Tx) -> None:
    present = tx.one("SELECT to_regclass('audit.read_audit') IS NOT NULL")
    if not present or not present[0]:
        raise AuditSetupError(
            "the read audit table audit.read_audit is missing: it is created, owned by the role "
            "parcours_audit, by infra/postgres.sh start (see docs/api.md, Access).")
    rights = tx.one(
        "SELECT has_table_privilege('audit.read_audit', 'INSERT'),"
        " has_table_privilege('audit.read_audit', 'SELECT'),"
        " has_table_privilege('audit.read_audit', 'UPDATE')"
        " OR has_table_privilege('audit.read_audit', 'DELETE')"
        " OR has_table_privilege('audit.read_audit', 'TRUNCATE')"
        " OR pg_has_role(current_user, (SELECT tableowner FROM pg_tables"
        "   WHERE schemaname = 'audit' AND tablename = 'read_audit'), 'USAGE')")
    assert rights is not None
    may_insert, may_select, may_alter = rights
    if not (may_insert and may_select) or may_alter:
        raise AuditSetupError(
            "the application's database role must have INSERT and SELECT on audit.read_audit "
            "and nothing more (not its owner, no UPDATE, DELETE or TRUNCATE): run "
            "infra/postgres.sh start, or grant as it does.")


def shown(accesses: Iterable[Access]) -> list[Access]:
    """One record per person: a list that shows a person twice records them once."""
    seen: dict[str, Access] = {}
    for access in accesses:
        seen.setdefault(access.pathway_id, access)
    return list(seen.values())
