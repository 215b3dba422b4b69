"""The contacts projection's rows, from a journal held in memory (eventsourcing's POPO store)
fed through the embedded LogProjector into an in-memory SQLite database: no I/O."""

import random
from collections.abc import Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path
from uuid import UUID

import pytest

from projections.contacts import queries
from projections.contacts.projection import ContactsProjection
from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.events.values import Orientation
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.storage.sqldb import SqliteDatabase
from shared.streaming.projecting import LogProjector, LogReplaySource
from shared.streaming.replay import replay

META = Meta(actor=Actor(id="coord-1", role="coordinator"))


def on(day: str) -> Meta:
    """A command whose fact happened on that day (its envelope's occurred_at)."""
    return Meta(actor=META.actor, occurred_at=datetime.fromisoformat(f"{day}T09:00:00+00:00"))


@pytest.fixture
def journal() -> Iterator[Journal]:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    yield journal
    journal.close()


def project(journal: Journal) -> SqliteDatabase:
    db = SqliteDatabase(Path(":memory:"))
    LogProjector(partial(read_log, journal), db, ContactsProjection()).catch_up()
    return db


def join(journal: Journal, pathway: UUID, member: ev.MemberJoined) -> None:
    journal.join_care_circle(pathway, member, META)


def edges(db: SqliteDatabase, pathway_id: UUID) -> list[tuple[object, ...]]:
    with db.transaction() as tx:
        rows = queries.rows_of(tx, str(pathway_id))
    return [(e.episode, e.role, e.member_id, str(e.since), e.until and str(e.until))
            for e in sorted(rows.edges, key=lambda e: (e.episode, e.since, e.role))]


def test_an_episode_from_referral_to_closure_then_the_next_referral(journal: Journal) -> None:
    for manager in ("gc-1", "gc-2"):
        journal.register_manager(f.TERRITORY, manager, f"Gestionnaire {manager}", 5, META)
    referral = f.referral(random.Random(7))
    pathway = journal.refer(referral, META)
    journal.admit(pathway, f.admission(), "gc-1", META)  # recorded today, decided on 01-20
    for member in (f.member("gp-1"), f.member("nurse-1", "nurse")):
        join(journal, pathway, member)
    journal.transfer(pathway, "gc-2", "Rééquilibrage", on("2026-03-01"))
    left = ev.MemberLeft(member_id="gp-1", left_on=date(2026, 4, 1))
    journal.leave_care_circle(pathway, left, META)
    journal.close_episode(pathway, f.closure(), META)  # closed on 06-30
    journal.refer(f.referral(random.Random(7), referred_on=date(2026, 9, 1)), META)

    db = project(journal)
    referrer = referral.referrer.id
    assert edges(db, pathway) == [
        (1, "referrer", referrer, "2026-01-15", "2026-06-30"),
        (1, "case_manager", "gc-1", "2026-01-20", "2026-03-01"),
        (1, "attending_gp", "gp-1", "2026-01-25", "2026-04-01"),
        (1, "nurse", "nurse-1", "2026-01-25", "2026-06-30"),
        (1, "case_manager", "gc-2", "2026-03-01", "2026-06-30"),
        (2, "referrer", referrer, "2026-09-01", None),
    ]
    with db.transaction() as tx:
        rows = queries.rows_of(tx, str(pathway))
    person = rows.persons[0]
    assert (person.episode, person.status, person.territory) == (2, "awaiting_decision",
                                                                 f.TERRITORY)
    assert person.label == f"{referral.person.family_name.upper()} {referral.person.given_names}"
    assert [(e.number, e.admitted_on, e.ended_on, e.outcome) for e in rows.episodes] == [
        (1, date(2026, 1, 20), date(2026, 6, 30), "moved_out"), (2, None, None, None)]


def test_a_place_freed_starts_on_the_day_it_was_given(journal: Journal) -> None:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire gc-1", 1, META)
    first = journal.refer(f.referral(random.Random(1)), META)
    journal.admit(first, f.admission(), None, META)
    waiting = journal.refer(f.referral(random.Random(2)), META)
    journal.admit(waiting, f.admission(), None, META)
    journal.close_episode(first, f.closure(), on("2026-05-10"))  # gives the place at once

    db = project(journal)
    assert [e[1:] for e in edges(db, waiting) if e[1] == "case_manager"] == [
        ("case_manager", "gc-1", "2026-05-10", None)]


def test_a_refused_person_stays_a_node_and_late_joins_make_empty_periods(
    journal: Journal,
) -> None:
    referral = f.referral(random.Random(3))
    refused = journal.refer(referral, META)
    join(journal, refused, f.member("gp-9"))
    refusal = ev.AdmissionRefused(
        decided_on=date(2026, 1, 28), reason_code="criteria_not_met", reason="Critères absents",
        orientation=Orientation(to="SSIAD fictif", kind="service"))
    journal.refuse(refused, refusal, META)

    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire gc-1", 5, META)
    closed = journal.refer(f.referral(random.Random(4)), META)
    journal.admit(closed, f.admission(), "gc-1", META)
    late = f.member("nurse-2", "nurse").model_copy(update={"joined_on": date(2026, 7, 15)})
    join(journal, closed, late)
    # Closed the day the nurse joined: an empty period.
    journal.close_episode(closed, f.closure().model_copy(update={"closed_on": date(2026, 7, 15)}),
                          META)

    db = project(journal)
    assert [e[1:] for e in edges(db, refused)] == [
        ("referrer", referral.referrer.id, "2026-01-15", "2026-01-28"),
        ("attending_gp", "gp-9", "2026-01-25", "2026-01-28")]
    assert ("nurse", "nurse-2", "2026-07-15", "2026-07-15") in [e[1:] for e in edges(db, closed)]
    with db.transaction() as tx:
        assert queries.rows_of(tx, str(refused)).persons[0].status == "refused"


def test_replaying_the_log_gives_the_same_rows(journal: Journal) -> None:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire gc-1", 5, META)
    for seed in range(3):
        pathway = journal.refer(f.referral(random.Random(seed)), META)
        journal.admit(pathway, f.admission(), "gc-1", META)
        join(journal, pathway, f.member("gp-1"))
    first, second = project(journal), project(journal)
    with first.transaction() as a, second.transaction() as b:
        assert queries.rows(a) == queries.rows(b)
        assert len(queries.rows(a).edges) == 9


def test_a_replay_rebuilds_the_same_rows_beside_the_live_ones(journal: Journal) -> None:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire gc-1", 5, META)
    for seed in range(2):
        pathway = journal.refer(f.referral(random.Random(seed)), META)
        journal.admit(pathway, f.admission(), "gc-1", META)
        join(journal, pathway, f.member("gp-1"))
    db = project(journal)
    with db.transaction() as tx:
        before = queries.rows(tx)
    source = LogReplaySource(partial(read_log, journal), journal.recorder.max_notification_id)
    assert replay(db, ContactsProjection(), source) > 0
    with db.transaction() as tx:
        assert queries.rows(tx) == before
