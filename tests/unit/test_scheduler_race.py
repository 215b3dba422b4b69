"""A deadline whose condition cleared in the journal, before the ruptures view applied the
event that cleared it, must end as a rebuild of the view would have it (no I/O: the popo store
and in-memory SQLite)."""

import random
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from projections.ruptures.projection import RupturesProjection
from projections.ruptures.scheduler import Scheduler
from shared import events as ev
from shared import fictitious as f
from shared.events import Actor
from shared.pathway.application import Journal
from shared.pathway.commands import Meta
from shared.pathway.dates import DEFAULT_TIME_ZONE
from shared.pathway.journal_store import read_log
from shared.projecting import LogProjector
from shared.sqldb import SqliteDatabase

META = Meta(actor=Actor(id="gc-1", role="case_manager"), future_tolerance=timedelta(days=400))
ADMITTED = date(2026, 1, 20)
LEFT = datetime(2026, 2, 10, 15, tzinfo=DEFAULT_TIME_ZONE)


def _deadlines(db: SqliteDatabase) -> set[tuple[str, str]]:
    with db.transaction() as tx:
        return {(key, outcome) for key, outcome in tx.execute(
            "SELECT dedup_key, outcome FROM rupture_deadlines")}


def test_a_deadline_cleared_before_the_view_knows_it_ends_as_a_rebuild_has_it() -> None:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    pathway = journal.refer(f.referral(random.Random(1)), META)
    journal.admit(pathway, f.admission(ADMITTED), "gc-1", META)
    journal.hospitalise(pathway, f.stay(LEFT - timedelta(days=5)), META)
    journal.discharge(pathway, f.discharge(LEFT), META)  # home, no letter: R7 planned
    live = SqliteDatabase(Path(":memory:"))
    ruptures = RupturesProjection()
    projector = LogProjector(partial(read_log, journal), live, ruptures)
    projector.catch_up()
    assert any(key.startswith("R7") for key, _ in _deadlines(live))

    # The letter arrives; the rules' owner fires R7's deadline before its view applied it.
    journal.receive_discharge_letter(
        pathway, ev.DischargeLetterReceived(received_on=LEFT.date() + timedelta(days=1)), META)
    later = (LEFT + timedelta(days=30)).astimezone(UTC)
    Scheduler(live, journal, ruptures, clock=lambda: later).fire_due()
    projector.catch_up()

    rebuilt = SqliteDatabase(Path(":memory:"))
    LogProjector(partial(read_log, journal), rebuilt, RupturesProjection()).catch_up()
    assert _r7(live) == _r7(rebuilt) == set()  # not "fired" with no alert behind it
    assert not any(e.type == "AlertRaised" and e.data["rule"] == "R7"
                   for e in journal.events_of(pathway))


def _r7(db: SqliteDatabase) -> set[tuple[str, str]]:
    return {(key, outcome) for key, outcome in _deadlines(db) if key.startswith("R7")}
