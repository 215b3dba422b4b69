"""2. Relay throughput: ``Relay`` publishing the PostgreSQL store's events to a fresh topic,
against kafka-python's producer sending the same serialized records with the same settings
and batches straight to another fresh topic (no store read, no position writes)."""

import time

from kafka import KafkaProducer

from bench.common import Context, Progress, Result, say
from services.relay.relay import Relay
from shared import kafka_io
from shared.events import EventEnvelope
from shared.pathway.application import Journal, read_log
from shared.settings import Settings
from shared.sqldb import PostgresDatabase

KafkaRecord = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers


def run(ctx: Context, store: Settings) -> tuple[list[Result], Settings, int]:
    """Returns the topic the relay filled and how many pathway events it holds."""
    journal = Journal(env=store.journal_env())
    db = PostgresDatabase(store.database_url)
    try:
        entries = read_log(journal, 1, 10**9)
        records = [_record(envelope) for _, envelope in entries if envelope is not None]
        topic = ctx.fresh_topic(store, "relay")
        say(f"── relay: {len(entries):,} log entries, {len(records):,} pathway events "
            f"→ {topic.topic}")
        producer = kafka_io.producer(topic)
        producer.partitions_for(topic.topic)  # connected, metadata known: not timed
        relay = Relay(journal, db, producer, topic.topic, batch_size=topic.relay_batch_size)
        progress = Progress("relay", entries[-1][0], "log entries")
        started = time.perf_counter()
        while relay.publish_next_batch():
            progress.update(relay.position())
        elapsed = time.perf_counter() - started
        producer.close()
    finally:
        db.close()
        journal.close()

    baseline_topic = ctx.fresh_topic(store, "producer")
    say(f"    baseline: kafka-python producer, the same {len(records):,} records "
        f"→ {baseline_topic.topic}")
    producer = kafka_io.producer(baseline_topic)
    producer.partitions_for(baseline_topic.topic)
    baseline_elapsed = _produce(producer, baseline_topic.topic, records,
                                baseline_topic.relay_batch_size)
    producer.close()
    result = Result("relay, store → Kafka", len(records) / elapsed, "events/s",
                    "KafkaProducer alone", len(records) / baseline_elapsed,
                    details={"events": len(records), "log_entries": len(entries),
                             "batch_size": topic.relay_batch_size, "seconds": elapsed,
                             "baseline_seconds": baseline_elapsed})
    ceiling_topic = ctx.fresh_topic(store, "confluent")
    say(f"    ceiling: confluent-kafka producer, the same {len(records):,} records")
    ceiling_elapsed = _produce_confluent(store.kafka_bootstrap, ceiling_topic.topic, records,
                                         ceiling_topic.relay_batch_size)
    ceiling = Result("relay, store → Kafka (vs ceiling)", len(records) / elapsed, "events/s",
                     "confluent-kafka producer", len(records) / ceiling_elapsed,
                     details={"events": len(records), "baseline_seconds": ceiling_elapsed})
    return [result, ceiling], topic, len(records)


def _produce_confluent(bootstrap: str, topic: str, records: list[KafkaRecord],
                       batch_size: int) -> float:
    """The ceiling a user could reach with librdkafka: the same batches, acks=all,
    idempotent, each batch flushed before the next."""
    from confluent_kafka import Producer  # the bench extra only

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": True, "linger.ms": 5})
    producer.list_topics(topic, timeout=10)
    progress = Progress("confluent producer", len(records), "records")
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        for key, value, headers in records[start:start + batch_size]:
            producer.produce(topic, key=key, value=value, headers=list(headers))
        if producer.flush(30) != 0:
            raise RuntimeError("confluent-kafka: records not acknowledged within 30 s")
        progress.update(min(start + batch_size, len(records)))
    return time.perf_counter() - started


def _record(envelope: EventEnvelope) -> KafkaRecord:
    """What ``Relay._send`` sends for an envelope, serialized before the clock starts."""
    headers = [("event_id", str(envelope.event_id).encode()), ("type", envelope.type.encode()),
               ("schema_version", str(envelope.schema_version).encode())]
    return str(envelope.pathway_id).encode(), envelope.to_json(), headers


def _produce(producer: KafkaProducer, topic: str, records: list[KafkaRecord],
             batch_size: int) -> float:
    """Sends in the relay's batches, each flushed and acknowledged; returns the seconds."""
    progress = Progress("producer", len(records), "records")
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        futures = [producer.send(topic, key=key, value=value, headers=headers)
                   for key, value, headers in records[start:start + batch_size]]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
        progress.update(min(start + batch_size, len(records)))
    return time.perf_counter() - started
