"""Reading a whole topic back, and waiting without sleeping blindly."""

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.relay.positions import KafkaPositions
from shared.runtime.settings import Settings


def read_topic(settings: Settings, topic: str | None = None,
               isolation_level: str = "read_committed") -> list[ConsumerRecord]:
    """Every committed record of the topic (as the consumers read it), partition by
    partition, in offset order; with ``read_uncommitted``, aborted records too."""
    topic = topic or settings.topic
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                             isolation_level=isolation_level, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, "timed out reading the topic back"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def relay_position(settings: Settings) -> int:
    """What the relay committed on Kafka, read as any consumer of committed records would,
    without waiting for the relay's open transaction to end."""
    return KafkaPositions(settings.kafka_bootstrap, settings.relay_positions_topic,
                          f"relay:{settings.topic}").read(settled=False) or 0


def next_offsets(records: list[ConsumerRecord]) -> dict[int, int]:
    """Per partition, the offset after its last record: where a consumer that applied every
    record stands. Not the record count: each committed transaction also takes an offset for
    its marker."""
    ends: dict[int, int] = {}
    for record in records:
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    return ends


def committed_ends(settings: Settings, topic: str | None = None) -> dict[int, int]:
    """Per partition, the offset after its last committed record (``next_offsets`` of the whole
    topic, without reading it all: the last records are searched from the end)."""
    topic = topic or settings.topic
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                             isolation_level="read_committed", enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        ends: dict[int, int] = {}
        for tp, end in consumer.end_offsets(partitions).items():
            window = 16
            while end and tp.partition not in ends:
                start = max(0, end - window)
                consumer.seek(tp, start)
                deadline = time.monotonic() + 30
                while consumer.position(tp) < end:
                    assert time.monotonic() < deadline, "timed out reading the topic's end"
                    for record in consumer.poll(timeout_ms=500).get(tp, []):
                        if record.offset < end:
                            ends[tp.partition] = record.offset + 1
                if start == 0:
                    break
                window *= 8
        return ends
    finally:
        consumer.close()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)
