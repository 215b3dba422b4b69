"""The read audit: every response that names a person, one record per person named: who, in
which role, when, what, from which address, and whether it was allowed.

Append-only twice over. On PostgreSQL the table lives in schema ``audit``, owned by another
role (``infra/postgres.sh`` makes it); the application's role may only INSERT and SELECT there,
so it can neither drop the trigger nor delete a record, and the platform refuses to start when
it could. And every record carries a keyed hash of itself and of the one before it (``prev_hash``
→ ``hash``, HMAC-SHA256 with the audit's key, which the database never holds), and the chain's
head is checkpointed outside the database (``shared.storage.audit_anchor``): someone with every
right on the database who removes or changes records cannot recompute a chain that verifies,
nor cut its end unseen past a checkpoint. ``parcours audit verify`` says where.

Records written before the key (plain SHA-256) stay as they were: the first start with a key
writes a ``legacy`` checkpoint that names the last of them, and ``verify`` checks them with
plain SHA-256 and says so; any later unkeyed record is a break."""

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from shared.storage.audit_anchor import (
    AuditAnchor,
    AuditKeyError,
    AuditSetupError,
    Checkpoint,
    CheckpointError,
    Kind,
)
from shared.storage.migrations import migrate
from shared.storage.sqldb import Database, Tx

__all__ = ["Access", "AuditKeyError", "AuditLog", "AuditSetupError", "Verdict", "shown"]

log = logging.getLogger(__name__)

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
    checkpoints: int = 0
    """Checkpoints of this chain found and matched."""
    legacy: int = 0
    """Records 1 to ``legacy`` predate the key: verified with plain SHA-256 only."""


def _canonical(prev_hash: str, seq: int, values: dict[str, object]) -> bytes:
    return json.dumps([seq, *(values[f] for f in FIELDS), prev_hash],
                      ensure_ascii=False, separators=(",", ":")).encode()


def record_hash(prev_hash: str, seq: int, values: dict[str, object]) -> str:
    """The unkeyed hash of records written before the key: kept to verify them."""
    return hashlib.sha256(_canonical(prev_hash, seq, values)).hexdigest()


class AuditLog:
    def __init__(self, db: Database, anchor: AuditAnchor) -> None:
        self.db, self.anchor = db, anchor
        self.table = "audit.read_audit" if db.dialect == "postgresql" else "read_audit"
        self._origin: str | None = None
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
        self._seal_legacy()

    def keyed_hash(self, prev_hash: str, seq: int, values: dict[str, object]) -> str:
        return self.anchor.chain_hash(_canonical(prev_hash, seq, values))

    def record(self, access: Access) -> None:
        self.record_many([access])

    def record_many(self, accesses: Sequence[Access]) -> None:
        """Appends the records in one insert, chained after the last one; checkpoints the
        head, once committed, when the chain opens or crosses a multiple of ``every``."""
        if not accesses:
            return
        with self.db.transaction() as tx:
            if self.db.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(:lock)", {"lock": _LOCK})
            # SQLite: the transaction is BEGIN IMMEDIATE, already one writer at a time.
            last = tx.one(f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1")
            first_seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
            seq, rows, params = first_seq, [], {}
            for n, access in enumerate(accesses):
                seq += 1
                values: dict[str, object] = {**vars(access), "id": str(uuid4()),
                                             "at": access.at.isoformat()}
                digest = self.keyed_hash(prev, seq, values)
                row = {"seq": seq, **values, "prev_hash": prev, "hash": digest}
                rows.append("(" + ", ".join(f":{c}_{n}" for c in COLUMNS) + ")")
                params.update({f"{c}_{n}": row[c] for c in COLUMNS})
                prev = digest
                if seq == 1:
                    self._origin = digest
            tx.execute(f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES "
                       + ", ".join(rows), params)
            every = self.anchor.every
            due = first_seq == 0 or first_seq // every != seq // every
            origin = self._origin_in(tx) if due else None
        if origin is not None:
            self._checkpoint("head", seq, prev, origin)

    def checkpoint(self) -> Checkpoint | None:
        """Anchors the chain's current head now (``parcours audit checkpoint``)."""
        with self.db.transaction() as tx:
            last = tx.one(f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1")
            origin = self._origin_in(tx) if last else None
        if last is None or origin is None:
            return None
        return self.anchor.write("head", int(last[0]), str(last[1]), origin)

    def of_pathway(self, pathway_id: str) -> list[dict[str, str | None]]:
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {', '.join(FIELDS)} FROM {self.table} "
                              "WHERE pathway_id = :id ORDER BY seq", {"id": pathway_id})
        return [dict(zip(FIELDS, row, strict=True)) for row in rows]

    def verify(self, legacy_until: int | None = None, batch: int = 5000) -> Verdict:
        """Walks the whole chain: each record's keyed hash, its link to the one before, and
        every checkpoint against the record it names. ``legacy_until``: records up to this one
        predate the key, said by whoever runs the check when no legacy checkpoint says it."""
        try:
            marks = self.anchor.read()
        except CheckpointError as error:
            return Verdict(False, 0, None, f"the checkpoint file {self.anchor.path} was "
                           f"altered ({error}): it cannot vouch for the chain")
        return _Walk(self, marks, legacy_until).run(batch)

    def _origin_in(self, tx: Tx) -> str | None:
        if self._origin is None:
            first = tx.one(f"SELECT hash FROM {self.table} WHERE seq = 1")
            self._origin = str(first[0]) if first else None
        return self._origin

    def _checkpoint(self, kind: Kind, seq: int, digest: str, origin: str) -> None:
        try:
            self.anchor.write(kind, seq, digest, origin)
        except OSError as error:
            # The records are committed and the read is audited: refusing the answer would
            # not make it safer. The next checkpoint is tried at the next crossing.
            log.error("the read audit's checkpoint of record %d could not be written to %s: %s",
                      seq, self.anchor.path, error.strerror)

    def _seal_legacy(self) -> None:
        """First start with a key on a chain written without one: names its last unkeyed
        record, once, so that ``verify`` knows where plain SHA-256 ends. Only while the
        checkpoint file is empty: afterwards an unkeyed record is someone else's."""
        if self.anchor.has_checkpoints():
            return
        with self.db.transaction() as tx:
            found = tx.one(f"SELECT {', '.join(COLUMNS)} FROM {self.table} "
                           "ORDER BY seq DESC LIMIT 1")
            if found is None:
                return
            last = dict(zip(COLUMNS, found, strict=True))
            seq = int(str(last["seq"]))
            if self.keyed_hash(str(last["prev_hash"]), seq, last) == last["hash"]:
                return  # keyed already (the file was moved or lost): nothing to seal
            origin = self._origin_in(tx)
        assert origin is not None
        log.warning("the read audit's records 1 to %d were chained without a key: sealed as "
                    "legacy in %s", seq, self.anchor.path)
        self._checkpoint("legacy", seq, str(last["hash"]), origin)


class _Walk:
    """One pass over the chain, in order, stopping at the first break."""

    def __init__(self, audit: AuditLog, marks: list[Checkpoint], legacy_until: int | None):
        self.audit, self.marks = audit, marks
        self.legacy_until = legacy_until

    def run(self, batch: int) -> Verdict:
        audit, table = self.audit, self.audit.table
        prev, expected, count, origin = GENESIS, 1, 0, None
        legacy = self.legacy_until or 0
        by_seq: dict[int, list[Checkpoint]] = {}
        while True:
            with audit.db.transaction() as tx:
                rows = tx.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} "
                                  "WHERE seq >= :from ORDER BY seq LIMIT :n",
                                  {"from": expected, "n": batch})
            if not rows:
                break
            for row in rows:
                found = dict(zip(COLUMNS, row, strict=True))
                seq = int(str(found["seq"]))
                if seq != expected:
                    return Verdict(False, count, expected, f"record {expected} is missing")
                if found["prev_hash"] != prev:
                    return Verdict(False, count, seq, "the link to the previous record is "
                                   "broken")
                keyed = audit.keyed_hash(prev, seq, found) == found["hash"]
                plain = record_hash(prev, seq, found) == found["hash"]
                if seq == 1:
                    origin = str(found["hash"])
                    ours = [m for m in self.marks if m.origin == origin]
                    if len(ours) < len(self.marks) and (keyed or plain):
                        other = next(m for m in self.marks if m.origin != origin)
                        return Verdict(False, 0, 1, "the chain was replaced from its first "
                                       f"record: the checkpoint of {other.at} vouches for "
                                       f"record {other.seq} of another chain (or two "
                                       "databases share the checkpoint file)")
                    sealed = [m.seq for m in ours if m.kind == "legacy"]
                    if self.legacy_until is None and sealed:
                        legacy = max(sealed)
                    for mark in ours:
                        by_seq.setdefault(mark.seq, []).append(mark)
                if seq <= legacy:
                    if not plain:
                        return Verdict(False, count, seq, f"record {seq} was changed (it "
                                       "predates the key: checked with plain SHA-256)",
                                       legacy=legacy)
                elif not keyed:
                    return Verdict(False, count, seq, self._unkeyed(seq, plain), legacy=legacy)
                for mark in by_seq.get(seq, []):
                    if mark.hash != found["hash"]:
                        return Verdict(False, count, seq, f"record {seq} is not the one the "
                                       f"checkpoint of {mark.at} vouches for: the chain was "
                                       "rewritten from there", legacy=legacy)
                prev, expected, count = str(found["hash"]), seq + 1, count + 1
        if origin is None and self.marks:
            mark = max(self.marks, key=lambda m: m.seq)
            return Verdict(False, 0, 1, f"the chain is empty, but the checkpoint of {mark.at} "
                           f"vouches for record {mark.seq}: every record was removed")
        beyond = [m for marks in by_seq.values() for m in marks if m.seq >= expected]
        if beyond:
            mark = max(beyond, key=lambda m: m.seq)
            return Verdict(False, count, expected, f"the chain ends at record {count}, but the "
                           f"checkpoint of {mark.at} vouches for record {mark.seq}: records "
                           f"{expected} to {mark.seq} at least were removed from its end",
                           legacy=min(legacy, count))
        matched = sum(len(marks) for marks in by_seq.values())
        return Verdict(True, count, checkpoints=matched, legacy=min(legacy, count))

    def _unkeyed(self, seq: int, plain: bool) -> str:
        if plain:
            return (f"record {seq} is not signed with the audit's key, though its plain "
                    "SHA-256 is right: the chain was recomputed without the key, or, if the "
                    "records up to it predate the key, say so with --legacy-until")
        return (f"record {seq} was changed, or the chain recomputed without the audit's key "
                "(its keyed hash does not match)")


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
