"""`replay` rebuilds the caseload beside the live view, from the topic's beginning, while the
live consumer keeps running; the rebuilt view equals the live one and takes its place."""

import threading
from typing import Any

from projections.caseload.projection import CaseloadProjection
from services.relay.relay import Relay
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from shared.streaming.replay import replay
from tests.integration.conftest import EVENTS_PER_PATHWAY, fill
from tests.integration.kafka_helpers import wait_until


def rows(db: PostgresDatabase) -> list[tuple[Any, ...]]:
    with db.transaction() as tx:
        return [tuple(r) for r in tx.execute(
            "SELECT * FROM caseload_persons ORDER BY pathway_id")]


def applied(db: PostgresDatabase) -> int:
    with db.transaction() as tx:
        row = tx.one("SELECT COALESCE(SUM(events_applied), 0) FROM caseload_persons")
    return int(row[0]) if row else 0


def test_replay_beside_a_running_consumer(settings: Settings, journal: Journal) -> None:
    versions = fill(journal, 300, seed=3)
    db = PostgresDatabase(settings.database_url, max_size=4)
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic)
    while relay.publish_next_batch():
        pass
    live = kafka_io.KafkaProjector(settings, db, CaseloadProjection())
    halt = threading.Event()
    worker = threading.Thread(target=live.run, args=(halt,))
    worker.start()
    try:
        wait_until(lambda: applied(db) == 300 * EVENTS_PER_PATHWAY, 120, "the live view")
        before = rows(db)

        progress: list[tuple[int, int]] = []
        source = kafka_io.KafkaReplaySource(settings)
        read = replay(db, CaseloadProjection(), source, lambda d, t: progress.append((d, t)))
        source.close()
        assert read == 300 * EVENTS_PER_PATHWAY
        assert progress[-1][0] == read
        assert rows(db) == before
        with db.transaction() as tx:
            tables = [r[0] for r in tx.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'caseload_persons%'")]
        assert tables == ["caseload_persons"]

        more = fill(journal, 10, seed=4)
        while relay.publish_next_batch():
            pass
        wait_until(lambda: applied(db) == 310 * EVENTS_PER_PATHWAY, 60, "the swapped-in view")
    finally:
        halt.set()
        worker.join()
    with db.transaction() as tx:
        final = {r[0]: (r[1], r[2]) for r in tx.execute(
            "SELECT pathway_id, events_applied, version FROM caseload_persons")}
    assert final == {k: (v, v) for k, v in {**versions, **more}.items()}
    db.close()
