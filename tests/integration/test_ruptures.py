"""The ruptures consumer on PostgreSQL and Kafka, killed at bad moments: after an alert was
appended to the journal but before its deadline was marked fired, and right after a view
commit. No alert is lost, none is raised twice."""

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from services.relay.relay import Relay
from shared import fictitious as f
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from tests.integration.conftest import META
from tests.integration.kafka_helpers import wait_until
from tests.integration.processes import died, start, stop


def follow(journal: Journal, pathways: int) -> None:
    """Admitted persons, hospitalised and back home without a letter or a revised plan."""
    rng = random.Random(11)
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", pathways, META)
    for _ in range(pathways):
        pathway_id = journal.refer(f.referral(rng), META)
        journal.admit(pathway_id, f.admission(), "gc-1", META)
        journal.hospitalise(pathway_id, f.stay(), META)
        journal.discharge(pathway_id, f.discharge(), META)


@pytest.fixture
def relaying(settings: Settings, journal: Journal) -> Iterator[None]:
    """The relay, running beside the test as it does in production."""
    db = PostgresDatabase(settings.database_url, max_size=2)
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic)
    halt = threading.Event()
    worker = threading.Thread(target=relay.run, args=(halt, 0.05))
    worker.start()
    yield
    halt.set()
    worker.join()
    db.close()


def unfired_due(db: PostgresDatabase) -> int:
    try:
        with db.transaction() as tx:
            row = tx.one("SELECT COUNT(*) FROM rupture_deadlines "
                         "WHERE outcome = 'pending' AND due_at <= :now",
                         {"now": datetime.now(UTC).isoformat()})
    except Exception:
        return -1  # not created yet
    return int(row[0]) if row else -1


def raised(journal: Journal, db: PostgresDatabase) -> Counter[str]:
    with db.transaction() as tx:
        ids = [r[0] for r in tx.execute("SELECT pathway_id FROM rupture_state")]
    keys: Counter[str] = Counter()
    for pathway_id in ids:
        for event in journal.events_of(UUID(pathway_id)):
            if event.type == "AlertRaised":
                keys[event.data["dedup_key"]] += 1
    return keys


def test_ruptures_consumer_killed_at_bad_moments_loses_and_doubles_nothing(
    settings: Settings, journal: Journal, relaying: None, tmp_path: Path
) -> None:
    follow(journal, 20)
    db = PostgresDatabase(settings.database_url, max_size=2)
    log = tmp_path / "ruptures.log"
    fast = {"PARCOURS_SCHEDULER_INTERVAL_S": "0.2", "PARCOURS_CONSUMER_MAX_POLL_RECORDS": "30"}

    after_raise = start(["project", "ruptures"], settings, log,
                        PARCOURS_FAILPOINTS="ruptures.after_raise=5", **fast)
    assert died(after_raise, log) == -9, log.read_text()
    # Its first commit is certain: at least the five alerts just raised come back from Kafka.
    after_commit = start(["project", "ruptures"], settings, log,
                         PARCOURS_FAILPOINTS="projection.after_commit=1", **fast)
    assert died(after_commit, log) == -9, log.read_text()

    final = start(["project", "ruptures"], settings, log, **fast)
    wait_until(lambda: unfired_due(db) == 0 and sum(raised(journal, db).values()) >= 20 * 4,
               120, "every alert")
    keys = raised(journal, db)
    wait_until(lambda: len(alerts_listed(db)) == len(keys), 60, "the alerts view")
    assert stop(final) == 0, log.read_text()[-3000:]

    assert set(keys.values()) == {1}, "an alert was raised twice"
    # The stays ended in March: their "at once" alerts (R1, R2) lapsed instead of firing.
    assert Counter(k.split(":")[0] for k in keys) == {"R3": 20, "R5": 20, "R6": 20, "R7": 20}
    with db.transaction() as tx:
        fired = {r[0] for r in tx.execute("SELECT dedup_key FROM rupture_deadlines "
                                          "WHERE outcome = 'fired'")}
        lapsed = tx.execute("SELECT rule, COUNT(*) FROM rupture_deadlines WHERE outcome = 'lapsed'"
                            " GROUP BY rule ORDER BY rule")
    assert fired == set(keys)
    assert [tuple(r) for r in lapsed] == [("R1", 20), ("R2", 20)]
    db.close()


def alerts_listed(db: PostgresDatabase) -> list[str]:
    with db.transaction() as tx:
        return [r[0] for r in tx.execute("SELECT alert_id FROM alerts")]
