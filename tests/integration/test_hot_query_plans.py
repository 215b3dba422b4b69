"""Every lookup the projections and the scheduler make has its index.

The statements are not listed by hand: a batch of real events goes through every projection
and the scheduler fires real deadlines, on a database that records each statement it runs.
PostgreSQL is then asked to EXPLAIN each of them with sequential scans priced out of reach;
a plan that still scans a table sequentially has no index to use. A table that grows with the
log and is read that way makes every batch slower than the one before."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from projections.caseload.projection import CaseloadProjection
from projections.contacts.projection import ContactsProjection
from projections.dysfunctions.projection import DysfunctionsProjection
from projections.ruptures.projection import RupturesProjection
from services.scheduler.scheduler import Scheduler
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import Database, Params, PostgresDatabase, Row, Tx
from shared.streaming.projecting import LogProjector
from tests.integration.conftest import fill

SMALL_TABLES = {"projection_offsets", "projection_schemas"}
"""One row per projection and partition: they never grow with the log."""


class _RecordingTx(Tx):
    def __init__(self, tx: Tx, seen: dict[str, Params]) -> None:
        self.tx, self.seen, self.dialect = tx, seen, tx.dialect

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        self.seen.setdefault(sql, params or {})
        return self.tx.execute(sql, params)

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            self.seen.setdefault(sql, rows[0])
        self.tx.execute_many(sql, rows)


class _RecordingDatabase(Database):
    dialect = "postgresql"

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: dict[str, Params] = {}

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.db.transaction() as tx:
            yield _RecordingTx(tx, self.seen)


def _is_lookup(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in {"SELECT", "UPDATE", "DELETE"}


def _plan(db: Database, sql: str, params: Params) -> str:
    with db.transaction() as tx:
        tx.execute("SET LOCAL enable_seqscan = off")
        rows: list[Any] = tx.execute(f"EXPLAIN {sql}", params)
    return "\n".join(str(row[0]) for row in rows)


def test_no_hot_query_scans_a_growing_table(settings: Settings, journal: Journal) -> None:
    fill(journal, pathways=3)
    db = PostgresDatabase(settings.database_url)
    recording = _RecordingDatabase(db)
    try:
        ruptures = RupturesProjection()
        projectors = [LogProjector(partial(read_log, journal), recording, projection,
                                   batch_size=7)
                      for projection in (CaseloadProjection(), ruptures, ContactsProjection(),
                                         DysfunctionsProjection())]
        for projector in projectors:
            assert projector.catch_up() > 0
        later = datetime.now(UTC) + timedelta(days=400)
        scheduler = Scheduler(recording, journal, ruptures, clock=lambda: later)
        assert scheduler.fire_due() > 0, "no deadline fired: the scheduler's writes untested"
        for projector in projectors:  # the alerts raised go through the projections too
            projector.catch_up()

        lookups = {sql: params for sql, params in recording.seen.items() if _is_lookup(sql)}
        assert any("rupture_deadlines" in sql and "pathway_id IN" in sql for sql in lookups)
        assert any("due_at <=" in sql for sql in lookups)
        scans = {}
        for sql, params in lookups.items():
            plan = _plan(db, sql, params)
            scanned = [line for line in plan.splitlines() if "Seq Scan on" in line
                       and line.split("Seq Scan on", 1)[1].split()[0] not in SMALL_TABLES]
            if scanned:
                scans[sql] = plan
        assert not scans, "sequential scans:\n\n" + "\n\n".join(
            f"{sql}\n{plan}" for sql, plan in scans.items())
    finally:
        db.close()
