"""What the scheduler leaves in the ruptures view must be what a rebuild of the view has, and
a deadline must fire at its moment whatever the offset its rule dated it with (no I/O: the
popo store and in-memory SQLite)."""

import random
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from uuid import UUID

from projections.ruptures.projection import RupturesProjection
from services.scheduler.scheduler import Scheduler
from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.dates import DEFAULT_TIME_ZONE
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.storage.sqldb import SqliteDatabase
from shared.streaming.projecting import LogProjector

META = Meta(actor=Actor(id="gc-1", role="case_manager"), future_tolerance=timedelta(days=400))
ADMITTED = date(2026, 1, 20)
LEFT = datetime(2026, 2, 10, 15, tzinfo=DEFAULT_TIME_ZONE)


def _journal() -> tuple[Journal, UUID]:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    pathway = journal.refer(f.referral(random.Random(1)), META)
    journal.admit(pathway, f.admission(ADMITTED), "gc-1", META)
    return journal, pathway


def _view(journal: Journal) -> tuple[SqliteDatabase, LogProjector, RupturesProjection]:
    db, ruptures = SqliteDatabase(Path(":memory:")), RupturesProjection()
    projector = LogProjector(partial(read_log, journal), db, ruptures)
    projector.catch_up()
    return db, projector, ruptures


def _deadlines(db: SqliteDatabase, rule: str) -> dict[str, tuple[str, str]]:
    with db.transaction() as tx:
        return {key: (outcome, due_at) for key, outcome, due_at in tx.execute(
            "SELECT dedup_key, outcome, due_at FROM rupture_deadlines WHERE rule = :rule",
            {"rule": rule})}


def _raised(journal: Journal, pathway: UUID, rule: str) -> int:
    return sum(1 for e in journal.events_of(pathway)
               if e.type == "AlertRaised" and e.data["rule"] == rule)


def test_a_deadline_cleared_before_the_view_knows_it_ends_as_a_rebuild_has_it() -> None:
    journal, pathway = _journal()
    journal.hospitalise(pathway, f.stay(LEFT - timedelta(days=5)), META)
    journal.discharge(pathway, f.discharge(LEFT), META)  # R7 planned
    live, projector, ruptures = _view(journal)
    assert len(_deadlines(live, "R7")) == 1

    # The letter arrives; the rules' owner fires R7's deadline before its view applied it.
    journal.receive_discharge_letter(
        pathway, ev.DischargeLetterReceived(received_on=LEFT.date() + timedelta(days=1)), META)
    later = (LEFT + timedelta(days=30)).astimezone(UTC)
    scheduler = Scheduler(live, journal, ruptures, clock=lambda: later)
    scheduler.fire_due()
    assert [outcome for outcome, _ in _deadlines(live, "R7").values()] == ["cleared"]
    scheduler.fire_due()  # a cleared deadline is not tried again at each tick
    projector.catch_up()

    rebuilt, _, _ = _view(journal)
    assert _deadlines(live, "R7") == _deadlines(rebuilt, "R7") == {}
    assert _raised(journal, pathway, "R7") == 0


def test_a_deadline_dated_at_midnight_in_paris_fires_at_that_moment() -> None:
    journal, pathway = _journal()
    live, _, ruptures = _view(journal)
    ((key, (_, due_at)),) = _deadlines(live, "R5").items()
    due = datetime.fromisoformat(due_at)
    assert due.utcoffset() == timedelta(0)  # stored in UTC, so its text sorts as time does
    # The evaluation is late from the start of the day after it was due, in Paris: 23:00 or
    # 22:00 UTC the day before. Compared as text with a Paris offset it would fire hours late.
    assert due.astimezone(DEFAULT_TIME_ZONE).time().hour == 0
    just_after = due + timedelta(minutes=30)
    assert just_after.date() < due.astimezone(DEFAULT_TIME_ZONE).date()
    Scheduler(live, journal, ruptures, clock=lambda: just_after).fire_due()
    assert _raised(journal, pathway, "R5") == 1
    assert _deadlines(live, "R5")[key][0] == "fired"


def test_a_deadline_is_not_fired_a_minute_before_its_moment() -> None:
    journal, pathway = _journal()
    live, _, ruptures = _view(journal)
    ((_, (_, due_at)),) = _deadlines(live, "R5").items()
    # A clock in Paris time: the moment counts, not the text of its offset.
    just_before = (datetime.fromisoformat(due_at) - timedelta(minutes=1)).astimezone(
        DEFAULT_TIME_ZONE)
    Scheduler(live, journal, ruptures, clock=lambda: just_before).fire_due()
    assert _raised(journal, pathway, "R5") == 0
