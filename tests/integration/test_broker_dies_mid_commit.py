"""`kill -9` of the Kafka broker while the real `parcours relay` has a batch in flight: just
before it sends the batch, and just before it commits it, each time a few milliseconds later.

A batch whose commit the broker had decided before the crash is completed by the broker after
its restart; one it had not is aborted. Either way each event must be on the topic once, as a
consumer of committed records reads it, and in order per pathway. The relay is held at its
failpoint (``PARCOURS_FAILPOINTS=…=pause``) so that the kill lands at a moment the test
chooses rather than one it hopes for."""

import os
import time
from functools import partial
from pathlib import Path

from kafka.errors import KafkaError

from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from tests.integration.conftest import EVENTS_PER_PATHWAY, fill, measured
from tests.integration.kafka_helpers import read_topic, relay_position, wait_until
from tests.integration.processes import infra, start, stop

POINTS = ("relay.before_send", "relay.before_commit")
ROUNDS = int(os.environ.get("PARCOURS_BROKER_KILL_ROUNDS", "6"))
PATHWAYS_PER_ROUND = 2


def moment(round_: int) -> tuple[str, int]:
    """Where the relay is held, and how many ms after letting it go the broker dies: each
    point in turn, the delays spread from 0 to 20 ms over the rounds."""
    per_point = -(-ROUNDS // len(POINTS))
    step = 20 // max(1, per_point - 1)
    return POINTS[round_ % len(POINTS)], (round_ // len(POINTS)) * step


def published_up_to(settings: Settings, last: int | None) -> bool:
    """Whether the relay has committed up to ``last``; not yet if the broker, just back,
    does not answer this reader yet."""
    try:
        return relay_position(settings) == last
    except KafkaError:
        return False


def test_broker_killed_during_a_batch_leaves_each_event_once_on_the_topic(
    settings: Settings, journal: Journal, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    log = tmp_path / "relay.log"
    relay = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE="5",
                  PARCOURS_FAILPOINTS=",".join(f"{point}=pause" for point in POINTS),
                  PARCOURS_FAILPOINT_DIR=str(gate))
    kills = []
    try:
        for round_ in range(ROUNDS):
            point, delay_ms = moment(round_)
            (gate / f"{point}.armed").touch()
            fill(journal, PATHWAYS_PER_ROUND, seed=round_ + 1)
            wait_until((gate / f"{point}.reached").exists, 60, f"the relay to reach {point}")
            (gate / f"{point}.go").touch()
            # The kill's moment, not a wait for a condition: 0 to 20 ms into the send or commit.
            time.sleep(delay_ms / 1000)
            infra("kafka", "kill")
            kills.append(f"{point}+{delay_ms}ms")
            infra("kafka", "start")
            last = journal.recorder.max_notification_id()
            assert relay.poll() is None, log.read_text()[-5000:]
            wait_until(partial(published_up_to, settings, last), 180,
                       f"the relay to commit up to {last} after the kill at {kills[-1]}")
    finally:
        for leftover in gate.iterdir():
            leftover.unlink()
        code = stop(relay)
    assert code == 0, log.read_text()[-5000:]

    stored = ROUNDS * PATHWAYS_PER_ROUND * EVENTS_PER_PATHWAY
    envelopes = [EventEnvelope.from_json(r.value) for r in read_topic(settings)]
    copies = len(envelopes) - len({e.event_id for e in envelopes})
    assert copies == 0, f"{copies} events on the topic twice after kills at {kills}"
    assert len(envelopes) == stored
    versions: dict[object, list[int]] = {}
    for envelope in envelopes:
        versions.setdefault(envelope.pathway_id, []).append(envelope.stream_version)
    assert all(v == list(range(1, EVENTS_PER_PATHWAY + 1)) for v in versions.values())
    said = log.read_text()
    measured(f"broker killed mid-batch {len(kills)} times ({', '.join(kills)}): "
             f"{len(envelopes)} events on the topic, each once, in order; the relay aborted "
             f"{said.count('by a transaction the broker lost')} partitions' leftover records "
             f"and waited {said.count('relay: waited')} times for an open transaction")
