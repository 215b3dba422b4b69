"""3. Projection apply: ``KafkaProjector`` running ``CaseloadProjection`` from the relay's
topic into a fresh PostgreSQL database until every event is applied, against a plain
KafkaConsumer reading the same records and writing each poll's batch with one multi-row INSERT
(no decoding, no deduplication, no offsets)."""

import time
from collections.abc import Callable

import psycopg

from bench.common import Context, Progress, Result, say
from projections.caseload.projection import CaseloadProjection
from shared import kafka_io
from shared.settings import Settings
from shared.sqldb import PostgresDatabase

STALL_S = 60  # no progress for this long: the run fails instead of waiting forever


def run(ctx: Context, topic: Settings, events: int) -> Result:
    views = ctx.fresh_database("views")
    settings = views.model_copy(update={"topic": topic.topic})
    say(f"── projection: caseload, {events:,} events from {topic.topic}")
    db = PostgresDatabase(settings.database_url)
    try:
        # Its own consumer group and table names, so nothing else on the broker joins it.
        projection = CaseloadProjection(settings.policy(), suffix=f"_bench_{ctx.run_id}")
        projector = kafka_io.KafkaProjector(settings, db, projection)
        try:
            elapsed = _until(events, "caseload", projector.poll_once)
        finally:
            projector.consumer.close()
    finally:
        db.close()

    say(f"    baseline: KafkaConsumer + one multi-row INSERT per poll, {events:,} records")
    baseline_elapsed = _baseline(ctx, settings, events)
    return Result("projection, Kafka → caseload", events / elapsed, "events/s",
                  "KafkaConsumer + INSERT", events / baseline_elapsed,
                  details={"events": events, "max_poll_records":
                           settings.consumer_max_poll_records, "seconds": elapsed,
                           "baseline_seconds": baseline_elapsed})


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
