"""The journal's save on PostgreSQL sent as one query (``shared.journal.postgres``): what it stores
is what was given, byte for byte; a refused save leaves nothing and a usable connection; and
it still waits for the table lock that keeps notification ids in commit order."""

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from shared.journal.application import Journal
from shared.runtime.settings import Settings

TRICKY_TOPIC = "tests.odd:Topic'; DROP TABLE x; --\\ é \u2028"


@pytest.fixture
def bare(settings: Settings) -> Iterator[Journal]:
    journal = Journal(env=settings.journal_env())
    try:
        yield journal
    finally:
        journal.close()


def _event(originator: uuid.UUID, version: int, state: bytes) -> StoredEvent:
    return StoredEvent(originator_id=originator, originator_version=version,
                       topic=TRICKY_TOPIC, state=state)


def test_what_is_stored_is_what_was_given(bare: Journal) -> None:
    originator = uuid.uuid4()
    states = [bytes(range(256)), b"", "'\\\"é\x00".encode(), b"\\x00"]
    events = [_event(originator, v, s) for v, s in enumerate(states, start=1)]
    ids = bare.recorder.insert_events(events)
    assert ids is not None and len(ids) == 4 and list(ids) == sorted(ids)
    stored = bare.recorder.select_events(originator)
    assert [(e.topic, e.state) for e in stored] == [(TRICKY_TOPIC, s) for s in states]
    notifications = bare.recorder.select_notifications(start=ids[0], limit=10)
    assert [n.id for n in notifications] == list(ids)


def test_a_refused_save_stores_nothing_and_leaves_the_connection_usable(
        bare: Journal) -> None:
    originator = uuid.uuid4()
    bare.recorder.insert_events([_event(originator, 1, b"first")])
    with pytest.raises(IntegrityError):
        bare.recorder.insert_events([_event(originator, 2, b"new"),
                                     _event(originator, 1, b"taken")])
    assert [e.state for e in bare.recorder.select_events(originator)] == [b"first"]
    # Whichever pooled connection comes next (the refused save's among them) takes it.
    for version in range(2, 12):
        assert bare.recorder.insert_events([_event(originator, version, b"%d" % version)])
    assert len(bare.recorder.select_events(originator)) == 11


def test_a_save_waits_for_the_table_lock(bare: Journal, settings: Settings) -> None:
    table = bare.recorder.events_table_name  # type: ignore[attr-defined]
    originator = uuid.uuid4()
    saved = threading.Event()
    with psycopg.connect(settings.database_url) as holder:
        # What another writer's transaction holds: a plain INSERT would not wait for it,
        # the store's EXCLUSIVE table lock does.
        holder.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")

        def save() -> None:
            bare.recorder.insert_events([_event(originator, 1, b"after")])
            saved.set()
        saver = threading.Thread(target=save)
        saver.start()
        waited = _someone_waits_for_a_lock(settings)
        assert waited and not saved.is_set()
        holder.commit()
    saver.join(timeout=30)
    assert saved.is_set()


def _someone_waits_for_a_lock(settings: Settings) -> bool:
    with psycopg.connect(settings.database_url, autocommit=True) as watcher:
        for _ in range(300):
            row = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation'"
            ).fetchone()
            if row and row[0]:
                return True
            threading.Event().wait(0.05)
    return False
