"""`kill -9` of the relay while it publishes 1,000 events: nothing is lost, and the view
applies each event exactly once."""

import threading
from collections import defaultdict
from pathlib import Path

from projections.caseload.projection import CaseloadProjection
from shared import kafka_io
from shared.events import EventEnvelope
from shared.pathway.application import Journal
from shared.settings import Settings
from shared.sqldb import PostgresDatabase
from tests.integration.conftest import EVENTS_PER_PATHWAY, fill
from tests.integration.kafka_helpers import read_topic, wait_until
from tests.integration.processes import kill9, start, stop


def relay_position(db: PostgresDatabase, settings: Settings) -> int:
    with db.transaction() as tx:
        row = tx.one("SELECT position FROM relay_positions WHERE name = :name",
                     {"name": f"relay:{settings.topic}"})
    return int(row[0]) if row else 0


def test_relay_killed_while_publishing_loses_nothing(
    settings: Settings, journal: Journal, tmp_path: Path
) -> None:
    versions = fill(journal, 100)
    last = journal.recorder.max_notification_id()
    assert last is not None
    db = PostgresDatabase(settings.database_url)
    log = tmp_path / "relay.log"

    # 1. Killed by itself right after Kafka acknowledged its 4th batch, before the position
    #    was saved: the worst moment, that batch will be published again.
    crashed = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="25",
                    PARCOURS_FAILPOINTS="relay.after_ack=4")
    assert crashed.wait(timeout=60) == -9, log.read_text()
    assert relay_position(db, settings) == 75

    # 2. Killed from outside while it is publishing.
    running = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="10")
    wait_until(lambda: relay_position(db, settings) > 75, 60, "the relay to move on")
    kill9(running)
    assert relay_position(db, settings) < last, "the relay finished before it was killed"

    # 3. Restarted: it resumes from its position and finishes.
    final = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="25")
    wait_until(lambda: relay_position(db, settings) == last, 120, "the relay to finish")
    assert stop(final) == 0

    records = read_topic(settings)
    envelopes = [EventEnvelope.from_json(r.value) for r in records]
    unique_ids = {e.event_id for e in envelopes}
    assert len(unique_ids) == 100 * EVENTS_PER_PATHWAY
    assert len(envelopes) > len(unique_ids), "the crash after ack should have caused copies"

    seen: set[object] = set()
    order: dict[str, list[int]] = defaultdict(list)
    for record, envelope in zip(records, envelopes, strict=True):
        assert record.key == str(envelope.pathway_id).encode()
        if envelope.event_id not in seen:
            seen.add(envelope.event_id)
            order[str(envelope.pathway_id)].append(envelope.stream_version)
    assert all(v == list(range(1, EVENTS_PER_PATHWAY + 1)) for v in order.values())

    projector = kafka_io.KafkaProjector(settings, db, CaseloadProjection())
    halt = threading.Event()
    worker = threading.Thread(target=projector.run, args=(halt,))
    worker.start()
    try:
        wait_until(lambda: applied(db) == versions, 60, "the caseload view")
    finally:
        halt.set()
        worker.join()
    assert applied(db) == versions
    db.close()


def applied(db: PostgresDatabase) -> dict[str, int]:
    """Events applied per pathway; a double application would count twice."""
    with db.transaction() as tx:
        rows = tx.execute("SELECT pathway_id, events_applied, version FROM caseload_persons")
    assert all(count == version for _, count, version in rows), rows
    return {pathway_id: count for pathway_id, count, _ in rows}
