"""1. Journal append: realistic commands through ``Journal`` on SQLite and on PostgreSQL,
against raw single-row INSERT transactions of the same stored bytes per command into a plain
table of the same database (what the disk and the database give)."""

import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.common import Context, Progress, Result, say
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.runtime.settings import Settings

PATHWAYS = 715  # × 7 pathway events: about 5,000 events for the relay and the projection
STAYS = 2  # hospitalisations (each with its discharge) per pathway
COMMANDS_PER_PATHWAY = 2 + 2 * STAYS  # refer, admit, then hospitalise and discharge
ROUNDS = 10
MANAGERS = ["gc-bench-1", "gc-bench-2", "gc-bench-3", "gc-bench-4"]
COORDINATOR = Meta(actor=Actor(id="coord-bench", role="coordinator"))
CASE_MANAGER = Meta(actor=Actor(id="gc-bench-1", role="case_manager"))


def run(ctx: Context) -> tuple[list[Result], Settings]:
    """Both stores; returns the PostgreSQL store's settings, full, for the relay."""
    pathways = ctx.scaled(PATHWAYS)
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as tmp:
        sqlite = _measure("SQLite", Settings(mode="embedded", data_dir=Path(tmp)), pathways)
    store = ctx.fresh_database("store")
    postgres = _measure("PostgreSQL", store, pathways)
    return [sqlite, postgres], store


def _measure(store: str, settings: Settings, pathways: int) -> Result:
    """The journal and the raw inserts take turns, a tenth of the commands each time: the
    machine is shared, and a load that comes and goes weighs on both alike."""
    total = pathways * COMMANDS_PER_PATHWAY
    say(f"── journal append on {store}: {pathways:,} pathways, {total:,} commands, and as "
        f"many raw INSERT transactions, alternated in {ROUNDS} rounds")
    database = _Raw(settings)
    journal = Journal(env=settings.journal_env())
    elapsed = baseline_elapsed = 0.0
    payload = b""
    rng = random.Random(2026)
    progress = Progress("journal + raw inserts", 2 * total, "commands and transactions")
    try:
        for manager in MANAGERS:  # set-up, not timed
            journal.register_manager(f.TERRITORY, manager, f"Gestionnaire {manager}",
                                     pathways // len(MANAGERS) + 1, COORDINATOR)
        table = journal.recorder.events_table_name  # type: ignore[attr-defined]
        rows_before, bytes_before = database.stored(table)
        database.create_table()
        for round_ in range(ROUNDS):
            block = range(pathways * round_ // ROUNDS, pathways * (round_ + 1) // ROUNDS)
            elapsed += _append(journal, block, rng)
            commands = len(block) * COMMANDS_PER_PATHWAY
            if not payload:  # what the journal stored per command in the first round
                payload = _payload(round((database.stored(table)[1] - bytes_before)
                                         / commands))
            baseline_elapsed += _insert(database, payload, commands)
            progress.update(2 * (block.stop * COMMANDS_PER_PATHWAY))
        rows_after, bytes_after = database.stored(table)
    finally:
        journal.close()
        database.close()
    return Result(f"journal append, {store}", total / elapsed, "commands/s",
                  f"raw INSERT tx + lock, {len(payload):,} B", total / baseline_elapsed,
                  baseline_unit="tx/s",
                  details={"commands": total, "stored_events": rows_after - rows_before,
                           "stored_bytes_per_command": round((bytes_after - bytes_before)
                                                             / total),
                           "baseline_bytes": len(payload), "rounds": ROUNDS,
                           "seconds": elapsed, "baseline_seconds": baseline_elapsed})


def _append(journal: Journal, pathways: range, rng: random.Random) -> float:
    """Refers, admits, hospitalises and discharges; returns the seconds it took."""
    started = time.perf_counter()
    for i in pathways:
        pathway_id = journal.refer(f.referral(rng), COORDINATOR)
        journal.admit(pathway_id, f.admission(), MANAGERS[i % len(MANAGERS)], COORDINATOR)
        for _ in range(STAYS):
            journal.hospitalise(pathway_id, f.stay(), CASE_MANAGER)
            journal.discharge(pathway_id, f.discharge(), CASE_MANAGER)
    return time.perf_counter() - started


def _insert(database: "_Raw", payload: bytes, transactions: int) -> float:
    started = time.perf_counter()
    for _ in range(transactions):
        database.insert(payload)
    return time.perf_counter() - started


def _payload(size: int) -> bytes:
    """JSON-like bytes, compressible like the stored states, ``size`` long."""
    unit = b'{"type":"Hospitalised","establishment":"CH de Villefictive","ward":"Geriatrie"},'
    return (unit * (size // len(unit) + 1))[:size]


class _Raw:
    """The store's own database, reached directly: no library, no mapper, no locks."""

    def __init__(self, settings: Settings) -> None:
        self.conn: Any
        if settings.mode == "embedded":
            self.conn = sqlite3.connect(settings.journal_env()["SQLITE_DBNAME"],
                                        isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")  # as the event store opens it
            self.columns, self.mark = "id INTEGER PRIMARY KEY, payload BLOB NOT NULL", "?"
        else:
            self.conn = psycopg.connect(settings.database_url, autocommit=True)
            self.columns, self.mark = "id BIGSERIAL PRIMARY KEY, payload BYTEA NOT NULL", "%s"

    def stored(self, table: str) -> tuple[int, int]:
        """Rows and bytes of event state in the store's table."""
        row = self.conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(LENGTH(state)), 0) FROM {table}").fetchone()
        return int(row[0]), int(row[1])

    def create_table(self) -> None:
        self.conn.execute(f"CREATE TABLE bench_raw ({self.columns})")

    def insert(self, payload: bytes) -> None:
        """One transaction, one row, with the table lock the store's recorder takes to keep
        its notification ids in commit order (PostgreSQL)."""
        self.conn.execute("BEGIN")
        if self.mark == "%s":
            self.conn.execute("LOCK TABLE bench_raw IN EXCLUSIVE MODE")
        self.conn.execute(f"INSERT INTO bench_raw (payload) VALUES ({self.mark})", (payload,))
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
