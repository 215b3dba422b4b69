"""The dispatcher through a database outage at the worst moment, after a send and before its
record: the outcome is kept and recorded once the database answers again, so the delivery is
never sent a second time (the claim's expiry would have sent it again).

The store is the real SQL on SQLite; only the outage is simulated (a database whose next
transactions fail as a PostgreSQL restart makes them fail), and the sender records its sends."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from services.notifications import store
from services.notifications.dispatcher import Dispatcher
from services.notifications.retry import RetryPolicy
from services.notifications.sending import Outcome
from services.notifications.service import build
from services.notifications.settings import NotificationSettings
from shared.runtime.resilience import Backoff
from shared.storage.sqldb import Database, SqliteDatabase, Tx

NOW = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)


class Outage(Database):
    """The store, but the transactions numbered in ``failing`` fail: before their work
    (``lost_commit`` False) or after their commit, as when the answer to COMMIT is lost."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db, self.dialect = db, db.dialect
        self.count = 0
        self.failing: set[int] = set()
        self.lost_commit = False

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        self.count += 1
        failing = self.count in self.failing
        if failing and not self.lost_commit:
            raise psycopg.OperationalError("the database system is shutting down")
        with self.db.transaction() as tx:
            yield tx
        if failing:
            raise psycopg.OperationalError("server closed the connection unexpectedly")


class Recorded:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, delivery: store.Delivery, attempt: int) -> Outcome:
        self.sent.append(delivery.delivery_id)
        return Outcome(True, http_status=204)


@pytest.fixture
def outage(tmp_path: Path) -> Outage:
    db = SqliteDatabase(tmp_path / "notifications.sqlite")
    # Builds the service to apply the migrations; no stream is read here.
    build(db, NotificationSettings(), lambda _, ids: set(), lambda _: None, clock=lambda: NOW)
    with db.transaction() as tx:
        store.insert_alert(tx, store.Alert(
            alert_id="alerte-1", pathway_id="parcours-1", event_id="evenement-1", rule="R1",
            severity="warning", title="Hospitalisation", message="Fictif.",
            due_at=store.iso(NOW), raised_at=store.iso(NOW), status="open"))
        store.insert_delivery(tx, "alerte-1", "gc-1", "Gestionnaire Un", "case_manager",
                              "webhook", "https://exemple.invalid/alertes", "pending", NOW)
    return Outage(db)


def dispatcher(db: Database, sender: Recorded) -> Dispatcher:
    found = Dispatcher(db, {"webhook": sender}, RetryPolicy(), clock=lambda: NOW)
    found.recording = Backoff("test", found.recording.log, first_s=0.01)
    return found


def sent_entries(outage: Outage) -> int:
    with outage.db.transaction() as tx:
        (delivery,) = store.deliveries(tx)
        assert delivery.status == "sent"
        entries = store.log_of(tx, [delivery.delivery_id])[delivery.delivery_id]
    return sum(1 for entry in entries if entry.outcome == "sent")


def test_a_send_is_recorded_once_the_database_is_back(outage: Outage) -> None:
    sender = Recorded()
    outage.failing = {2, 3, 4}  # 1 claims; the record fails three times, then succeeds
    assert dispatcher(outage, sender).run_once() == 1
    assert len(sender.sent) == 1
    assert sent_entries(outage) == 1


def test_a_record_whose_commit_answer_was_lost_is_not_written_twice(outage: Outage) -> None:
    sender = Recorded()
    outage.failing, outage.lost_commit = {2}, True
    assert dispatcher(outage, sender).run_once() == 1
    assert len(sender.sent) == 1
    assert sent_entries(outage) == 1


def test_stopped_during_the_outage_the_send_waits_for_its_claim(outage: Outage) -> None:
    """The one documented window: the process stops before it could record the send."""
    sender = Recorded()
    outage.failing = set(range(2, 1000))
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    try:
        assert dispatcher(outage, sender).run_once(stop=stop) == 0
    finally:
        timer.cancel()
    assert len(sender.sent) == 1
    with outage.db.transaction() as tx:
        (delivery,) = store.deliveries(tx)
    assert delivery.status == "pending"
    assert (delivery.next_attempt_at or "") > store.iso(NOW)  # claimed: sent again later
