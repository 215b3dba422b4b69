"""Issue 12, item 4: exactly once from the store to Kafka. Under a steady stream of commands,
the real `parcours relay` process is killed with -9 several times while it publishes (once
on purpose with a batch on the broker but not committed), and started again each time. In the
end every stored pathway event is on the topic once, read as every consumer reads it
(``read_committed``), in order per pathway."""

import random
import threading
from collections import defaultdict
from functools import partial
from pathlib import Path
from uuid import UUID

from shared import fictitious as f
from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from tests.integration.conftest import META, measured
from tests.integration.kafka_helpers import read_topic, relay_position, wait_until
from tests.integration.processes import died, kill9, start, stop

KILLS = 4
BATCH = "20"  # small batches: many transactions, so a kill lands inside one


class Commands:
    """Refers, admits, hospitalises and discharges, at a steady pace, until stopped."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.halt = threading.Event()
        self.count = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="commands", daemon=True)

    def __enter__(self) -> "Commands":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.halt.set()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        rng = random.Random(12)
        pathways: list[UUID] = []
        try:
            while not self.halt.is_set():
                if len(pathways) < 30 and rng.random() < 0.3:
                    self.journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un",
                                                  35 + len(pathways) + 1, META)
                    pathway_id = self.journal.refer(f.referral(rng), META)
                    self.journal.admit(pathway_id, f.admission(), "gc-1", META)
                    pathways.append(pathway_id)
                elif pathways:
                    pathway_id = rng.choice(pathways)
                    self.journal.hospitalise(pathway_id, f.stay(), META)
                    self.journal.discharge(pathway_id, f.discharge(), META)
                self.count += 1
                self.halt.wait(0.01)  # a steady pace, not a flood: the relay keeps up
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


def reached(settings: Settings, position: int) -> bool:
    return relay_position(settings) >= position


def stored_events(journal: Journal) -> dict[UUID, list[tuple[int, UUID]]]:
    """Every pathway event in the store: per pathway, (version, event id) in order."""
    found: dict[UUID, list[tuple[int, UUID]]] = defaultdict(list)
    start_at = 1
    while entries := read_log(journal, start_at, 1000):
        for _, envelope in entries:
            if envelope is not None:
                found[envelope.pathway_id].append((envelope.stream_version, envelope.event_id))
        start_at = entries[-1][0] + 1
    return found


def test_relay_killed_mid_batch_publishes_each_event_exactly_once(
        settings: Settings, journal: Journal, tmp_path: Path) -> None:
    log = tmp_path / "relay.log"
    rng = random.Random(4)
    kills: list[int] = []
    with Commands(journal) as commands:
        wait_until(lambda: commands.count >= 20 or commands.error is not None, 60,
                   "the first commands")
        # Once on purpose at the worst moment: a batch sent and acknowledged, not committed.
        crashed = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE=BATCH,
                        PARCOURS_FAILPOINTS="relay.before_commit=3")
        assert died(crashed, log) == -9
        kills.append(relay_position(settings))
        # Then from outside, at moments the test does not choose precisely: after the relay
        # moved on by a few batches, while commands keep arriving.
        for _ in range(KILLS):
            relay = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE=BATCH)
            target = relay_position(settings) + rng.randint(30, 90)
            wait_until(partial(reached, settings, target), 90, "the relay to move on")
            kill9(relay)
            kills.append(relay_position(settings))
        assert commands.error is None, commands.error
    assert commands.count > 0

    last = journal.recorder.max_notification_id()
    assert last is not None and last > kills[-1], "the stream ended before the last kill"
    final = start(["relay"], settings, log, PARCOURS_RELAY_BATCH_SIZE=BATCH)
    wait_until(lambda: relay_position(settings) == last, 120, "the relay to catch up")
    assert stop(final) == 0, log.read_text()[-3000:]

    stored = stored_events(journal)
    records = read_topic(settings)
    published: dict[UUID, list[tuple[int, UUID]]] = defaultdict(list)
    for record in records:
        envelope = EventEnvelope.from_json(record.value)
        assert record.key == str(envelope.pathway_id).encode()
        published[envelope.pathway_id].append((envelope.stream_version, envelope.event_id))
    # Exactly once and in order per pathway: the same lists, not just the same sets.
    assert published == stored
    assert len(records) == sum(len(events) for events in stored.values())
    # The kill before a commit did leave records on the broker: the consumers never saw them.
    assert len(read_topic(settings, isolation_level="read_uncommitted")) > len(records)
    assert sorted(kills) == kills and kills[0] > 0, kills
    aborted = len(read_topic(settings, isolation_level="read_uncommitted")) - len(records)
    measured(f"relay faults: killed {len(kills)} times (1 at relay.before_commit, "
             f"{len(kills) - 1} kill -9) at store positions {kills}; {len(records)} events on "
             f"the topic, each once, in order; {aborted} aborted records never read")
