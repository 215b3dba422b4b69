"""Where the relay has got to, kept in Kafka beside what it published.

Each batch's last global position is a record of a compacted topic (key: the relay's name),
written in the same Kafka transaction as the batch. Read back with ``read_committed``, the last
position is exactly what is on the pathway topic: a batch is there with its position or neither
is. Kafka is therefore the one source of truth for the relay's progress; PostgreSQL's
``relay_positions`` (migration 1, the at-least-once relay's) is read only once, to start a relay
upgraded from that version where the old one stopped."""

import logging
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaTimeoutError

DEFAULT_TOPIC = "parcours.relay-positions.v1"
log = logging.getLogger(__name__)


class KafkaPositions:
    def __init__(self, bootstrap: str | list[str], topic: str, name: str) -> None:
        self.bootstrap, self.topic, self.name = bootstrap, topic, name
        self.key = name.encode()

    def record(self, position: int) -> tuple[str, bytes, bytes]:
        """(topic, key, value) of the record that says ``position`` is published."""
        return self.topic, self.key, str(position).encode()

    def read(self, timeout_s: float = 30, settled: bool = True) -> int | None:
        """The last committed position of this relay, or None if it never committed one.

        Call it after the producer's ``init_transactions``. ``settled``: first wait until every
        transaction open on the partition at that moment has ended (its last stable offset
        has reached the end the partition had). A commit decided before a broker crash may be
        completed by the broker after its restart, after the next producer's
        ``init_transactions`` has returned: read before its marker, the position would be the
        one before the batch, and the batch would be published twice. Observers (tests,
        tools) pass False and read what is committed now."""
        deadline = time.monotonic() + timeout_s
        partition = TopicPartition(self.topic, 0)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, client_id="parcours-relay",
                                 isolation_level="read_committed", enable_auto_commit=False)
        try:
            consumer.assign([partition])
            end = self._stable_end(consumer, partition, deadline) if settled \
                else consumer.end_offsets([partition])[partition]
            # Search backwards from the end: the last few records are nearly always enough
            # (transaction markers take offsets too), the whole partition at worst.
            window = 64
            while True:
                start = max(0, end - window)
                found = self._last_between(consumer, partition, start, end, deadline)
                if found is not None or start == 0:
                    return found
                window *= 8
        finally:
            consumer.close()

    def _stable_end(self, committed: KafkaConsumer, partition: TopicPartition,
                    deadline: float) -> int:
        """The last stable offset, once it has reached the partition's end as it is now
        (another relay's later transactions do not hold it back); KafkaTimeoutError past
        ``deadline``."""
        everything = KafkaConsumer(bootstrap_servers=self.bootstrap, client_id="parcours-relay",
                                   isolation_level="read_uncommitted", enable_auto_commit=False)
        try:
            end = everything.end_offsets([partition])[partition]
        finally:
            everything.close()
        began, waited = time.monotonic(), False
        while (stable := committed.end_offsets([partition])[partition]) < end:
            if time.monotonic() > deadline:
                raise KafkaTimeoutError(
                    f"a transaction is still open on {self.topic} at offset {stable}: its "
                    "outcome decides where the relay starts again")
            waited = True
            time.sleep(0.1)
        if waited:
            log.info("relay: waited %.1f s for the transaction open on %s to end",
                     time.monotonic() - began, self.topic)
        return int(stable)

    def _last_between(self, consumer: KafkaConsumer, partition: TopicPartition, start: int,
                      end: int, deadline: float) -> int | None:
        consumer.seek(partition, start)
        found = None
        while consumer.position(partition) < end:
            if time.monotonic() > deadline:
                raise KafkaTimeoutError(f"reading the relay's position from {self.topic}")
            for record in consumer.poll(timeout_ms=500).get(partition, []):
                if record.offset < end and record.key == self.key and record.value is not None:
                    found = int(record.value)
        return found
