"""3. Projection apply: ``KafkaProjector`` running each projection from the relay's
topic into a fresh PostgreSQL database until every event is applied, against a plain
KafkaConsumer reading the same records and writing each poll's batch with one multi-row INSERT
(no decoding, no deduplication, no offsets).

Run alone: ``python -m bench projection_apply`` fills a store through the journal and a topic
through the relay first, as ``make bench``'s earlier benchmarks do (set-up, not timed)."""

import random
import time
from collections.abc import Callable

import psycopg

from bench import journal_append, relay_throughput
from bench.common import Context, Progress, Result, say
from parcours.bootstrap import PROJECTIONS
from shared import fictitious as f
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io

STALL_S = 60  # no progress for this long: the run fails instead of waiting forever


def run(ctx: Context, topic: Settings, events: int) -> list[Result]:
    views = ctx.fresh_database("views")
    settings = views.model_copy(update={"topic": topic.topic})
    timings: dict[str, float] = {}
    db = PostgresDatabase(settings.database_url)
    try:
        for name, make in PROJECTIONS.items():
            say(f"── projection: {name}, {events:,} events from {topic.topic}")
            # Its own consumer group and table names, so nothing else on the broker joins it.
            projection = make(settings).renamed(f"_bench_{ctx.run_id}")  # type: ignore[attr-defined]
            projector = kafka_io.KafkaProjector(settings, db, projection)
            try:
                timings[name] = _until(events, name, projector.poll_once)
            finally:
                projector.consumer.close()
    finally:
        db.close()

    say(f"    baseline: KafkaConsumer + one multi-row INSERT per poll, {events:,} records")
    baseline_elapsed = _baseline(ctx, settings, events)
    say("    ceiling: confluent-kafka Consumer + one multi-row INSERT per poll")
    ceiling_elapsed = _ceiling(ctx, settings, events)
    results = [Result(f"projection, Kafka → {name}", events / elapsed, "events/s",
                      "KafkaConsumer + INSERT", events / baseline_elapsed,
                      details={"events": events, "max_poll_records":
                               settings.consumer_max_poll_records, "seconds": elapsed,
                               "baseline_seconds": baseline_elapsed})
               for name, elapsed in timings.items()]
    slowest = max(timings, key=lambda name: timings[name])
    results.append(Result(f"projection, Kafka → {slowest} (vs ceiling)",
                          events / timings[slowest], "events/s",
                          "confluent-kafka Consumer + INSERT", events / ceiling_elapsed,
                          details={"baseline_seconds": ceiling_elapsed}))
    return results


def alone(ctx: Context) -> list[Result]:
    """The same figures without the earlier benchmarks: the same commands appended as the
    journal-append benchmark's, relayed to a fresh topic, then ``run``."""
    store = ctx.fresh_database("store")
    journal = Journal(env=store.journal_env())
    try:
        pathways = ctx.scaled(journal_append.PATHWAYS)
        say(f"── projection set-up: {pathways:,} pathways through the journal, then the relay")
        for manager in journal_append.MANAGERS:
            journal.register_manager(f.TERRITORY, manager, f"Gestionnaire {manager}",
                                     pathways // len(journal_append.MANAGERS) + 1,
                                     journal_append.COORDINATOR)
        journal_append._append(journal, range(pathways), random.Random(2026))
        entries = read_log(journal, 1, 10**9)
    finally:
        journal.close()
    topic = ctx.fresh_topic(store, "projection")
    relay_throughput._relay(store, topic, len(entries))
    return run(ctx, topic, sum(1 for _, envelope in entries if envelope is not None))


def _until(total: int, label: str, step: Callable[[], int]) -> float:
    """Calls ``step`` (which returns how many records it handled) until ``total``; returns the
    seconds it took, counting the consumer group's join in the first poll."""
    progress = Progress(label, total, "events")
    done = 0
    started = last_progress = time.perf_counter()
    while done < total:
        count = step()
        now = time.perf_counter()
        if count:
            done += count
            last_progress = now
            progress.update(done)
        elif now - last_progress > STALL_S:
            raise RuntimeError(f"{label}: stuck at {done:,}/{total:,} for {STALL_S} s")
    return time.perf_counter() - started


def _baseline(ctx: Context, settings: Settings, total: int) -> float:
    consumer = kafka_io.consumer(settings, f"parcours.bench-{ctx.run_id}.baseline")
    consumer.subscribe([settings.topic])
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_records (partition INTEGER NOT NULL, "
                     "record_offset BIGINT NOT NULL, value BYTEA NOT NULL)")

        def poll_and_insert() -> int:
            batches = consumer.poll(timeout_ms=500)
            rows = [(tp.partition, m.offset, m.value)
                    for tp, messages in batches.items() for m in messages]
            if rows:
                values = ", ".join(["(%s, %s, %s)"] * len(rows))
                with conn.transaction():
                    conn.execute(f"INSERT INTO bench_records (partition, record_offset, value) "
                                 f"VALUES {values}", [x for row in rows for x in row])
            return len(rows)

        try:
            return _until(total, "baseline consumer", poll_and_insert)
        finally:
            consumer.close()


def _ceiling(ctx: Context, settings: Settings, total: int) -> float:
    from confluent_kafka import Consumer  # the bench extra only

    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"parcours.bench-{ctx.run_id}.ceiling",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([settings.topic])
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_ceiling (partition INTEGER NOT NULL, "
                     "record_offset BIGINT NOT NULL, value BYTEA NOT NULL)")

        def poll_and_insert() -> int:
            messages = [m for m in consumer.consume(settings.consumer_max_poll_records, 0.5)
                        if m.error() is None]
            rows = [(m.partition(), m.offset(), m.value()) for m in messages]
            if rows:
                values = ", ".join(["(%s, %s, %s)"] * len(rows))
                with conn.transaction():
                    conn.execute(f"INSERT INTO bench_ceiling (partition, record_offset, value) "
                                 f"VALUES {values}", [x for row in rows for x in row])
            return len(rows)

        try:
            return _until(total, "confluent consumer", poll_and_insert)
        finally:
            consumer.close()
