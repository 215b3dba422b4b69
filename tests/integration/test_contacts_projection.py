"""The contacts projection on the real PostgreSQL and Kafka: events appended to the journal,
published by the relay, consumed by the projection's own consumer group. Its view equals the
one the same code builds from the journal's log on SQLite (the embedded mode), and a relay
whose records reach the topic a second time changes nothing."""

import random
import threading
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from uuid import UUID

from projections.contacts import export, queries
from projections.contacts.graph import build_graph
from projections.contacts.projection import ContactsProjection
from projections.contacts.rows import ContactRows
from services.relay.relay import Relay
from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.events.values import CareRole, Orientation
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import Database, PostgresDatabase, SqliteDatabase
from shared.streaming import kafka_io
from shared.streaming.projecting import LogProjector, stored_offsets
from tests.integration.kafka_helpers import next_offsets, read_topic, wait_until

META = Meta(actor=Actor(id="coord-1", role="coordinator"))


def on(day: str) -> Meta:
    return Meta(actor=META.actor, occurred_at=datetime.fromisoformat(f"{day}T09:00:00+00:00"))


def join(journal: Journal, pathway: UUID, member_id: str, role: CareRole,
         joined_on: str = "2026-01-25", organisation: str = "Cabinet fictif") -> None:
    member = f.member(member_id, role)
    joined = member.model_copy(update={
        "joined_on": date.fromisoformat(joined_on),
        "member": member.member.model_copy(update={"organisation": organisation})})
    journal.join_care_circle(pathway, joined, META)


def scene(journal: Journal) -> dict[str, int]:
    """Transfers, a waiting list, departures, a closure, a refusal then a new referral, and
    twenty more persons to spread over the partitions. Returns each stream's last version."""
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 2, META)
    journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", 2, META)
    p = [journal.refer(f.referral(random.Random(seed)), META) for seed in range(6)]
    journal.admit(p[0], f.admission(), "gc-1", META)
    join(journal, p[0], "gp-1", "attending_gp")
    join(journal, p[0], "nurse-1", "nurse", organisation="Cabinet infirmier")
    journal.admit(p[1], f.admission(), "gc-1", META)
    join(journal, p[1], "gp-1", "attending_gp")
    join(journal, p[1], "ssiad-1", "ssiad", organisation="SSIAD fictif")
    journal.admit(p[3], f.admission(), None, META)
    journal.transfer(p[0], "gc-2", "Rééquilibrage", on("2026-03-01"))
    left = ev.MemberLeft(member_id="gp-1", left_on=date(2026, 4, 1))
    journal.leave_care_circle(p[0], left, META)
    join(journal, p[0], "gp-2", "attending_gp", "2026-04-01")
    journal.admit(p[4], f.admission(), None, META)
    journal.admit(p[5], f.admission(), None, META)  # everyone is full: the waiting list
    journal.close_episode(p[1], f.closure(), on("2026-07-01"))  # p5 takes the place
    refusal = ev.AdmissionRefused(
        decided_on=date(2026, 1, 20), reason_code="criteria_not_met", reason="Critères absents",
        orientation=Orientation(to="SSIAD fictif", kind="service"))
    journal.refuse(p[2], refusal, META)
    journal.refer(f.referral(random.Random(2), referred_on=date(2026, 9, 1)), META)

    journal.register_manager(f.TERRITORY, "gc-3", "Gestionnaire Trois", 30, META)
    for seed in range(100, 120):
        pathway = journal.refer(f.referral(random.Random(seed)), META)
        journal.admit(pathway, f.admission(), "gc-3", META)
        join(journal, pathway, f"gp-{seed % 3}", "attending_gp")
        join(journal, pathway, f"nurse-{seed % 4}", "nurse", organisation="Cabinet infirmier")
        p.append(pathway)
    return {str(pathway): journal.pathway(pathway).version for pathway in p}


def applied(db: Database) -> dict[str, int]:
    with db.transaction() as tx:
        rows = tx.execute("SELECT pathway_id, version FROM projection_streams"
                          " WHERE projection = 'contacts'")
    return {pathway: int(version) for pathway, version in rows}


def view(db: Database) -> ContactRows:
    with db.transaction() as tx:
        return queries.rows(tx)


def project_from_kafka(settings: Settings, db: Database, until: str,
                       done: Callable[[], bool]) -> None:
    projector = kafka_io.KafkaProjector(settings, db, ContactsProjection())
    stop = threading.Event()
    worker = threading.Thread(target=projector.run, args=(stop,))
    worker.start()
    try:
        wait_until(done, 90, until)
    finally:
        stop.set()
        worker.join()


def at_offsets(db: Database, topic: str, expected: dict[int, int]) -> bool:
    return stored_offsets(db, "contacts", topic) == expected


def test_kafka_and_journal_give_the_same_view_each_event_applied_once(
    settings: Settings, journal: Journal, tmp_path: Path
) -> None:
    versions = scene(journal)
    events = sum(versions.values())
    db = PostgresDatabase(settings.database_url)
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic)
    while relay.publish_next_batch():
        pass
    records = read_topic(settings)
    assert len(records) == events

    project_from_kafka(settings, db, "the contacts view to apply every event",
                       partial(at_offsets, db, settings.topic, next_offsets(records)))
    assert applied(db) == versions

    embedded = SqliteDatabase(tmp_path / "views.sqlite")
    LogProjector(partial(read_log, journal), embedded, ContactsProjection()).catch_up()
    from_kafka, from_log = view(db), view(embedded)
    assert from_kafka == from_log
    assert len(from_kafka.persons) == 26 and len(from_kafka.episodes) == 27
    assert export.graphml(build_graph(from_kafka)) == export.graphml(build_graph(from_log))

    # The relay publishes each event once (its batches are Kafka transactions); copies can
    # still come from elsewhere (a producer outside Parcours, a topic restored from a backup):
    # here every record again, at new offsets. The views' version check drops them.
    copier = kafka_io.producer(settings, transactional=False)
    for record in records:
        copier.send(settings.topic, key=record.key, value=record.value,
                    headers=record.headers, partition=record.partition)
    copier.flush()
    copier.close()
    copies = read_topic(settings)
    assert len(copies) == 2 * events
    project_from_kafka(settings, db, "the copies to be consumed",
                       partial(at_offsets, db, settings.topic, next_offsets(copies)))
    assert view(db) == from_log
    assert applied(db) == versions
    db.close()
