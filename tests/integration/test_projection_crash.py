"""`kill -9` of the caseload projection right after a database commit: on restart it resumes
from the offsets stored with its rows and applies each event exactly once."""

from pathlib import Path

from services.relay.relay import Relay
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from shared.streaming.projecting import stored_offsets
from tests.integration.conftest import EVENTS_PER_PATHWAY, fill
from tests.integration.kafka_helpers import next_offsets, read_topic, wait_until
from tests.integration.processes import kill9, start, stop
from tests.integration.test_relay_crash import applied


def total_applied(db: PostgresDatabase) -> int:
    try:
        return sum(applied(db).values())
    except Exception:
        return 0  # the table does not exist until the projection starts


def test_projection_killed_after_a_commit_applies_each_event_once(
    settings: Settings, journal: Journal, tmp_path: Path
) -> None:
    versions = fill(journal, 100, seed=1)
    db = PostgresDatabase(settings.database_url)
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic)
    while relay.publish_next_batch():
        pass
    records = read_topic(settings)
    log = tmp_path / "projection.log"
    small_batches = {"PARCOURS_CONSUMER_MAX_POLL_RECORDS": "40"}

    crashed = start(["project", "caseload"], settings, log,
                    PARCOURS_FAILPOINTS="projection.after_commit=3", **small_batches)
    assert crashed.wait(timeout=90) == -9, log.read_text()
    after_crash = total_applied(db)
    offsets = stored_offsets(db, "caseload", settings.topic)
    assert 0 < after_crash < 100 * EVENTS_PER_PATHWAY
    # Rows and offsets were committed together (offsets count transaction markers too).
    assert sum(r.offset < offsets.get(r.partition, 0) for r in records) == after_crash

    again = start(["project", "caseload"], settings, log, **small_batches)
    wait_until(lambda: total_applied(db) > after_crash, 90, "the projection to resume")
    kill9(again)

    last = start(["project", "caseload"], settings, log)
    wait_until(lambda: total_applied(db) == 100 * EVENTS_PER_PATHWAY, 90, "the whole topic")
    assert stop(last) == 0
    assert applied(db) == versions
    assert stored_offsets(db, "caseload", settings.topic) == next_offsets(records)
    assert len(records) == 1000
    db.close()
