"""`parcours replay all` reads the log once and feeds every projection: each rebuilt view
equals the one its live projection built event by event, and the live projections carry on
from the rebuilt tables without applying anything twice."""

from functools import partial
from typing import Any

from parcours.bootstrap import PROJECTIONS
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming.projecting import LogProjector, LogReplaySource, Replayable
from shared.streaming.replay import replay_all
from tests.integration.conftest import EVENTS_PER_PATHWAY, fill

TABLES = {"caseload": "caseload_persons", "ruptures": "rupture_state",
          "contacts": "contact_edges", "dysfunctions": "dysfunction_reports"}


def snapshot(db: PostgresDatabase) -> dict[str, list[tuple[Any, ...]]]:
    with db.transaction() as tx:
        return {table: [tuple(r) for r in tx.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
                for table in [*TABLES.values(), "rupture_deadlines"]}


def test_replay_all_from_the_store(settings: Settings, journal: Journal) -> None:
    fill(journal, 12, seed=5)
    db = PostgresDatabase(settings.database_url)
    try:
        projectors = [LogProjector(partial(read_log, journal), db, make(settings), batch_size=9)
                      for make in PROJECTIONS.values()]
        for projector in projectors:
            projector.catch_up()
        before = snapshot(db)
        assert len(before["caseload_persons"]) == 12

        fill(journal, 3, seed=6)  # recorded, not yet applied by the live projections
        source = LogReplaySource(partial(read_log, journal),
                                 journal.recorder.max_notification_id, batch_size=11)
        progress: list[tuple[int, int]] = []
        lives: list[Replayable] = [make(settings) for make in PROJECTIONS.values()]  # type: ignore[misc]
        read = replay_all(db, lives, source, lambda d, t: progress.append((d, t)))

        assert read == journal.recorder.max_notification_id()
        assert [d for d, _ in progress] == sorted(d for d, _ in progress)
        assert progress[-1][0] == read
        rebuilt = snapshot(db)
        assert len(rebuilt["caseload_persons"]) == 15
        for table, rows in before.items():  # the 12 pathways the live views had: the same
            assert set(rows) <= set(rebuilt[table]), table
        with db.transaction() as tx:
            leftovers = tx.execute("SELECT tablename FROM pg_tables"
                                   " WHERE tablename LIKE '%!_!_r1%' ESCAPE '!'")
        assert leftovers == []

        # The live projections find everything applied: nothing changes, nothing twice.
        assert sum(projector.catch_up() for projector in projectors) == 0
        assert snapshot(db) == rebuilt
        with db.transaction() as tx:
            applied = tx.one("SELECT SUM(events_applied) FROM caseload_persons")
        assert applied is not None and applied[0] == 15 * EVENTS_PER_PATHWAY
    finally:
        db.close()
