"""2. Relay throughput: ``Relay`` publishing the PostgreSQL store's events to a fresh topic, each
batch a Kafka transaction with its position (exactly once), against kafka-python's bare
producer (idempotent, not transactional: the issue's baseline) sending the same serialized
records in the same batches straight to another fresh topic (no store read, no position), and,
for the record, the same producer with one transaction per batch: what transactions cost by
themselves. The machine is shared: the rounds alternate relay and baselines, and each figure is
the median of its rounds.

Run alone: ``python -m bench.relay_throughput`` (fills a store first, as ``make bench`` does)."""

import statistics
import time
from collections.abc import Callable

from kafka import KafkaProducer

from bench.common import Context, Progress, Result, say, table
from services.relay.relay import Relay
from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io

KafkaRecord = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers
ROUNDS = 3


def run(ctx: Context, store: Settings) -> tuple[list[Result], Settings, int]:
    """Returns a topic the relay filled and how many pathway events it holds."""
    journal = Journal(env=store.journal_env())
    try:
        entries = read_log(journal, 1, 10**9)
    finally:
        journal.close()
    records = [_record(envelope) for _, envelope in entries if envelope is not None]
    batch_size = store.relay_batch_size
    say(f"── relay: {len(entries):,} log entries, {len(records):,} pathway events, "
        f"batches of {batch_size}, {ROUNDS} rounds")
    relay_s: list[float] = []
    bare_s: list[float] = []
    transactional_s: list[float] = []
    filled: Settings | None = None
    for round_ in range(1, ROUNDS + 1):
        topic = ctx.fresh_topic(store, f"relay-{round_}")
        filled = filled or topic
        relay_s.append(_relay(store, topic, len(entries)))
        bare = ctx.fresh_topic(store, f"producer-{round_}")
        bare_s.append(_produce(kafka_io.producer(bare, transactional=False), bare.topic,
                               records, batch_size, transactions=False))
        txn = ctx.fresh_topic(store, f"transactional-{round_}")
        transactional_s.append(_produce(kafka_io.producer(txn), txn.topic, records, batch_size,
                                        transactions=True))
        say(f"    round {round_}: relay {len(records) / relay_s[-1]:,.0f}/s, bare producer "
            f"{len(records) / bare_s[-1]:,.0f}/s, transactional producer "
            f"{len(records) / transactional_s[-1]:,.0f}/s")
    assert filled is not None
    elapsed, baseline_elapsed = statistics.median(relay_s), statistics.median(bare_s)
    transactional_elapsed = statistics.median(transactional_s)
    details = {"events": len(records), "log_entries": len(entries), "batch_size": batch_size,
               "rounds": ROUNDS, "seconds": relay_s, "baseline_seconds": bare_s}
    result = Result("relay, store → Kafka, exactly once", len(records) / elapsed, "events/s",
                    "KafkaProducer alone (idempotent)", len(records) / baseline_elapsed,
                    details=details)
    transactional = Result(
        "relay, store → Kafka (vs transactional producer)", len(records) / elapsed, "events/s",
        "KafkaProducer, a transaction per batch", len(records) / transactional_elapsed,
        details={"baseline_seconds": transactional_s})
    ceiling_topic = ctx.fresh_topic(store, "confluent")
    say(f"    ceiling: confluent-kafka producer, the same {len(records):,} records")
    ceiling_elapsed = _produce_confluent(store.kafka_bootstrap, ceiling_topic.topic, records,
                                         batch_size)
    ceiling = Result("relay, store → Kafka (vs ceiling)", len(records) / elapsed, "events/s",
                     "confluent-kafka producer", len(records) / ceiling_elapsed,
                     details={"events": len(records), "baseline_seconds": ceiling_elapsed})
    return [result, transactional, ceiling], filled, len(records)


def _relay(store: Settings, topic: Settings, entries: int) -> float:
    """The relay from the store's first event to its last; its start (the producer's
    transactions initialised, its position read from Kafka, its reading process started) is
    not timed."""
    journal = Journal(env=store.journal_env())
    db = PostgresDatabase(store.database_url)
    relay = Relay(journal, db, lambda: kafka_io.producer(topic), topic.topic,
                  batch_size=store.relay_batch_size, read_ahead=True)  # as `parcours relay`
    try:
        relay.position()
        progress = Progress("relay", entries, "log entries")
        started = time.perf_counter()
        while relay.publish_next_batch():
            progress.update(relay.position())
        return time.perf_counter() - started
    finally:
        relay.close()
        db.close()
        journal.close()


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
             batch_size: int, transactions: bool) -> float:
    """Sends in the relay's batches, each flushed and acknowledged (or committed); returns the
    seconds. Connecting and initialising transactions are not timed."""
    producer.partitions_for(topic)
    if transactions:
        producer.init_transactions()
    progress = Progress("producer", len(records), "records")
    batch: Callable[[list[KafkaRecord]], None] = (
        _committed(producer, topic) if transactions else _acknowledged(producer, topic))
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        batch(records[start:start + batch_size])
        progress.update(min(start + batch_size, len(records)))
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


def _acknowledged(producer: KafkaProducer, topic: str) -> Callable[[list[KafkaRecord]], None]:
    def send(records: list[KafkaRecord]) -> None:
        futures = [producer.send(topic, key=key, value=value, headers=headers)
                   for key, value, headers in records]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
    return send


def _committed(producer: KafkaProducer, topic: str) -> Callable[[list[KafkaRecord]], None]:
    def send(records: list[KafkaRecord]) -> None:
        producer.begin_transaction()
        for key, value, headers in records:
            producer.send(topic, key=key, value=value, headers=headers)
        producer.commit_transaction()
    return send


def main() -> None:
    """This benchmark alone, on a store filled by the journal-append benchmark."""
    import logging
    import warnings

    from bench import journal_append

    warnings.filterwarnings("ignore", category=DeprecationWarning)  # kafka-python's
    logging.basicConfig(level=logging.WARNING, format="    [%(name)s] %(message)s")
    ctx = Context.from_env()
    ctx.check_services()
    try:
        _, store = journal_append.run(ctx)
        results, _, _ = run(ctx, store)
    finally:
        ctx.cleanup()
    say("")
    say(table(results))


if __name__ == "__main__":
    main()
