"""Issue 14, item 5: an idle relay is woken by the store's own notification of new events
(eventsourcing's PostgreSQL recorder sends NOTIFY on insert), not by its next look."""

import threading
import time
from functools import partial

from services.relay.relay import Relay
from shared import fictitious as f
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from tests.integration.conftest import META, fill
from tests.integration.kafka_helpers import wait_until

IDLE_WAIT_S = 60  # the fallback look: far beyond what the test waits


def published_all(relay: Relay, journal: Journal) -> bool:
    return relay.committed == journal.recorder.max_notification_id()


def test_an_idle_relay_publishes_a_new_event_at_once(settings: Settings,
                                                     journal: Journal) -> None:
    fill(journal, 1)
    db = PostgresDatabase(settings.database_url)
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic,
                  read_ahead=True)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop, IDLE_WAIT_S))
    worker.start()
    try:
        pathway_id = next(iter(journal.territory(f.TERRITORY).places))
        for _ in range(3):  # each time once the relay is idle again
            wait_until(partial(published_all, relay, journal), 60, "the relay to be idle")
            journal.note(pathway_id, f.note(), META)
            appended = time.monotonic()
            wait_until(partial(published_all, relay, journal), 10, "the new event")
            assert time.monotonic() - appended < 5
    finally:
        stop.set()
        worker.join(timeout=30)
        relay.close()
        db.close()
    assert not worker.is_alive()
