"""The caseload view's referrals (what Mes orientations and the commission list), from a
journal held in memory fed through the embedded LogProjector into an in-memory SQLite
database, in one batch and in batches of one: the same rows. No I/O."""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from projections.caseload import queries
from projections.caseload.projection import CaseloadProjection
from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.storage.sqldb import SqliteDatabase
from shared.streaming.projecting import LogProjector

NOW = datetime(2026, 9, 1, 10, tzinfo=UTC)
COORDINATOR = Meta(actor=Actor(id="coord-1", role="coordinator"), now=NOW)
GP = Meta(actor=Actor(id="dr-autre", role="referrer"), now=NOW)


def _sent(seed: int, **person: Any) -> ev.Referred:
    referral = f.referral(random.Random(seed), referred_on=date(2026, 8, 20))
    return referral.model_copy(update={
        "referral_id": uuid4(), "person": referral.person.model_copy(update=person),
        "referrer": referral.referrer.model_copy(update={"id": "dr-autre"})})


@pytest.fixture
def journal() -> Iterator[Journal]:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, COORDINATOR)
    followed = journal.refer(f.referral(random.Random(1)), COORDINATOR)
    journal.admit(followed, f.admission(), "gc-1", COORDINATOR)
    journal.receive_referral(_sent(4), GP)  # a new person
    again = _sent(1)
    journal.receive_referral(again, GP)  # followed: a repeat referral
    journal.receive_referral(_sent(1, family_name="Autrenom"), GP)
    assert again.referral_id is not None
    journal.resolve_repeat_referral(followed, again.referral_id, "declined", "", COORDINATOR)
    yield journal
    journal.close()


def _rows(journal: Journal, batch_size: int) -> tuple[Any, Any]:
    db = SqliteDatabase(Path(":memory:"))
    LogProjector(partial(read_log, journal), db, CaseloadProjection(),
                 batch_size=batch_size).catch_up()
    with db.transaction() as tx:
        return queries.referrals_sent(tx, "dr-autre"), queries.repeat_referrals(tx, f.TERRITORY)


def test_each_referral_is_listed_as_its_sender_sent_it(journal: Journal) -> None:
    sent, open_repeats = _rows(journal, 500)
    assert sorted((r["kind"], r["reason"], r["outcome"]) for r in sent) == [
        ("episode", None, None), ("repeat", "already_followed", "declined"),
        ("repeat", "identity_differs", None)]
    assert any(r["person_name"].startswith("AUTRENOM ") for r in sent)  # as typed
    (repeat,) = open_repeats
    assert repeat["reason"] == "identity_differs"
    assert repeat["submitted_name"].startswith("AUTRENOM ")
    assert not repeat["person_name"].startswith("AUTRENOM ")  # the file's name


def test_batches_of_one_give_the_same_rows(journal: Journal) -> None:
    assert _rows(journal, 1) == _rows(journal, 500)
