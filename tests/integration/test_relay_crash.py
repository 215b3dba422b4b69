"""`kill -9` of the relay while it publishes 1,000 events, at its worst moments: before its
batch's transaction commits, right after it did, and at a moment chosen from outside. Each
event ends up on the topic exactly once and in order, and the view applies each once."""

import threading
from collections import defaultdict
from pathlib import Path

from projections.caseload.projection import CaseloadProjection
from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from tests.integration.conftest import EVENTS_PER_PATHWAY, fill
from tests.integration.kafka_helpers import read_topic, relay_position, wait_until
from tests.integration.processes import died, kill9, start, stop


def test_relay_killed_while_publishing_publishes_each_event_once(
    settings: Settings, journal: Journal, tmp_path: Path
) -> None:
    versions = fill(journal, 100)
    last = journal.recorder.max_notification_id()
    assert last is not None
    log = tmp_path / "relay.log"

    # 1. Killed by itself with its 4th batch sent to Kafka but not committed: the worst moment
    #    of the at-least-once relay. The batch's records are on the topic, in a transaction
    #    that the next relay aborts; they are published again in a transaction of its own.
    crashed = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="25",
                    PARCOURS_FAILPOINTS="relay.before_commit=4")
    assert died(crashed, log) == -9
    assert relay_position(settings) == 75

    # 2. Killed by itself right after committing its 2nd batch: nothing to publish again.
    committed = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="25",
                      PARCOURS_FAILPOINTS="relay.after_commit=2")
    assert died(committed, log) == -9
    assert relay_position(settings) == 125

    # 3. Killed from outside while it is publishing.
    running = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="10")
    wait_until(lambda: relay_position(settings) > 125, 60, "the relay to move on")
    kill9(running)
    assert relay_position(settings) < last, "the relay finished before it was killed"

    # 4. Restarted: it resumes from the position committed on Kafka and finishes.
    final = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="25")
    wait_until(lambda: relay_position(settings) == last, 120, "the relay to finish")
    assert stop(final) == 0, log.read_text()[-3000:]

    records = read_topic(settings)
    envelopes = [EventEnvelope.from_json(r.value) for r in records]
    assert len({e.event_id for e in envelopes}) == 100 * EVENTS_PER_PATHWAY
    assert len(envelopes) == 100 * EVENTS_PER_PATHWAY, "an event was published twice"
    order: dict[str, list[int]] = defaultdict(list)
    for record, envelope in zip(records, envelopes, strict=True):
        assert record.key == str(envelope.pathway_id).encode()
        order[str(envelope.pathway_id)].append(envelope.stream_version)
    assert all(v == list(range(1, EVENTS_PER_PATHWAY + 1)) for v in order.values())
    uncommitted = read_topic(settings, isolation_level="read_uncommitted")
    assert len(uncommitted) > len(records), "the batch killed before its commit left nothing"

    db = PostgresDatabase(settings.database_url)
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
