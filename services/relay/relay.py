"""Publishes the store's global log to Kafka, in order, keyed by pathway id, each event once.

Each batch is one Kafka transaction holding the batch's records and the relay's new position
(``services.relay.positions``): consumers reading committed records see the whole batch with
its position, or nothing of it. A relay killed at any moment leaves at most an open
transaction, which the next one aborts when it starts (same transactional id) before reading
its position back from Kafka; so it publishes again exactly what was not committed. A broker
that dies during a commit may finish it after its restart: the commit's wait is bounded, and
the position is read only once the transactions open on its partition have ended, after
leftovers of a transaction the broker lost are aborted (``services.relay.orphans``). The
consumers' stream-version check (``shared.streaming.projecting``) stays as a second guard."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError

from services.relay.orphans import abort_orphans
from services.relay.positions import DEFAULT_TOPIC, KafkaPositions
from services.relay.reader import Encoder, InlineReader, ProcessReader
from services.relay.wakeup import Polling, StoreWakeup
from shared.events.pseudonymise import Analytics
from shared.journal.application import Journal
from shared.runtime.failpoints import failpoint
from shared.runtime.resilience import Backoff, retrying
from shared.storage.migrations import migrate
from shared.storage.sqldb import Database, PostgresDatabase
from shared.streaming import kafka_io

log = logging.getLogger(__name__)

PAGE = 500
"""Log entries read from the store at a time; a transaction gathers pages up to the batch size."""
COMMIT_TIMEOUT_S = 15
"""How long a batch's commit may wait for the broker before the relay starts again."""


class Relay:
    def __init__(
        self,
        journal: Journal,
        db: Database,
        new_producer: Callable[[], KafkaProducer],
        topic: str,
        alerts_topic: str | None = None,
        batch_size: int = 2000,
        analytics: tuple[str, Analytics] | None = None,
        positions_topic: str = DEFAULT_TOPIC,
        read_ahead: bool = False,
    ) -> None:
        """``new_producer`` makes a transactional producer (``kafka_io.producer``): the relay
        makes a new one after any failure, which aborts whatever the old one left open.
        ``read_ahead``: the store is read and encoded a batch ahead in a process of its own
        (``services.relay.reader``), the setting of ``parcours relay``."""
        self.journal = journal
        self.db = db
        self.new_producer = new_producer
        self.producer: KafkaProducer | None = None
        self.topic = topic
        self.alerts_topic = alerts_topic
        self.analytics = analytics
        self.batch_size = batch_size
        self.name = f"relay:{topic}"
        self.positions_topic = positions_topic
        self.positions: KafkaPositions | None = None
        self._position: int | None = None  # known once the producer's transactions are ready
        self.wakeup = _wakeup(journal, db)
        encoder = Encoder(topic, alerts_topic, analytics)
        self.reader: InlineReader | ProcessReader = (
            ProcessReader(dict(journal.env), encoder, min(batch_size, PAGE)) if read_ahead
            else InlineReader(journal, encoder, min(batch_size, PAGE)))
        self._partitions: dict[str, list[int]] = {}
        migrate(db)  # relay_positions: where a relay upgraded from at-least-once starts

    def position(self) -> int:
        """The last global position committed on Kafka (read from Kafka once per producer)."""
        if self._position is None:
            self._start()
        assert self._position is not None
        return self._position

    @property
    def committed(self) -> int | None:
        """The position this relay last committed (None until it knows it); never waits."""
        return self._position

    def _start(self) -> None:
        """A producer whose transactions are initialised, and the position Kafka holds."""
        try:
            if self.producer is None:
                self.producer = self.new_producer()
            bootstrap = self.producer.config["bootstrap_servers"]
            if self.positions is None:
                kafka_io.ensure_positions_topic(bootstrap, self.positions_topic)
                self.positions = KafkaPositions(bootstrap, self.positions_topic, self.name)
            # Aborts the transaction a killed relay left open (or waits for the commit it had
            # begun), and fences any relay still running with the same transactional id.
            self.producer.init_transactions()
            abort_orphans(bootstrap, self._own_partitions(self.producer),
                          *_producer_id_and_epoch(self.producer))
            committed = self.positions.read()
            if committed is None:
                committed = self._position_before_transactions()
                log.info("relay: no position on Kafka yet; starting from %d", committed)
            self.reader.open()
        except BaseException:
            self._forget()
            raise
        self._position = committed

    def publish_next_batch(self) -> int:
        """Publishes up to ``batch_size`` log entries in one transaction, page by page as the
        reader hands them over (a transaction costs round trips of its own: fewer and larger
        ones go faster); returns how many entries it published."""
        position = self.position()
        batch = self.reader.batch(position + 1)
        if not batch.entries:
            return 0
        producer, positions = self.producer, self.positions
        assert producer is not None and positions is not None
        published = 0
        try:
            producer.begin_transaction()
            failpoint("relay.before_send")
            self._partitions.clear()  # the partition counts as the producer knows them now
            while True:
                for topic, key, value, headers, hashed in batch.records:
                    producer.send(topic, key=key, value=value, headers=headers,
                                  partition=self._partition(producer, topic, hashed))
                published, last = published + batch.entries, batch.last
                if published + self.reader.size > self.batch_size \
                        or batch.entries < self.reader.size:
                    break  # full, or the end of the log for now
                batch = self.reader.batch(last + 1)
                if not batch.entries:
                    break
            topic, key, value = positions.record(last)
            producer.send(topic, key=key, value=value)
            producer.flush(timeout=30)  # bounded: commit_transaction itself waits forever
            failpoint("relay.before_commit")  # the records are on the broker, not committed
            _commit(producer)  # raises if any record of the batch failed
        except BaseException:
            self._forget()
            raise
        self._position = last
        failpoint("relay.after_commit")
        return published

    def _own_partitions(self, producer: KafkaProducer) -> list[TopicPartition]:
        """Every partition the relay's transactions write to."""
        topics = [self.topic, self.alerts_topic, self.analytics and self.analytics[0],
                  self.positions_topic]
        return [TopicPartition(topic, partition) for topic in topics if topic
                for partition in sorted(producer.partitions_for(topic))]

    def _partition(self, producer: KafkaProducer, topic: str, hashed: int) -> int:
        """The default partitioner's choice (a key's hash modulo the partition count), with
        the hash computed by the reader: the same partition as ever for each pathway."""
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = self._partitions[topic] = sorted(producer.partitions_for(topic))
        return partitions[hashed % len(partitions)]

    def run(self, stop: threading.Event, idle_wait_s: float = 1.0) -> None:
        """Publishes until stopped, through restarts of PostgreSQL and Kafka: after a failed
        batch a new producer aborts it and the position is read again from Kafka. With nothing
        to publish it waits for the store's notification of new events (``idle_wait_s`` at
        most)."""
        published = 0
        last_report = time.monotonic()
        backoff = Backoff("relay", log)
        try:
            while not stop.is_set():
                count = retrying(self.publish_next_batch, backoff, stop)
                if count is None:
                    return  # stopped while waiting out an outage
                published += count
                if time.monotonic() - last_report > 10 and published:
                    log.info("relay: %d events published, position %d", published,
                             self._position or 0)
                    last_report, published = time.monotonic(), 0
                if count < self.reader.size:
                    self.wakeup.wait(idle_wait_s, stop)
        finally:
            self.wakeup.close()

    def close(self) -> None:
        self.reader.close()
        if self.producer is not None:
            self.producer.close()
            self.producer = None

    def _forget(self) -> None:
        """After a failure nothing the relay holds is trusted: a new producer will abort the
        open transaction, then Kafka says where to start again."""
        producer, self.producer, self._position = self.producer, None, None
        try:
            if producer is not None:
                producer.close(timeout=1)
        except Exception:  # the old one is being dropped whatever it says
            log.debug("relay: closing the old producer failed", exc_info=True)

    def _position_before_transactions(self) -> int:
        """Where the at-least-once relay (which kept its position in PostgreSQL) stopped: 0 on
        a new installation. Never written any more: Kafka's position is the only one."""
        with self.db.transaction() as tx:
            row = tx.one("SELECT position FROM relay_positions WHERE name = :name",
                         {"name": self.name})
        return int(row[0]) if row else 0


def _transactions(producer: KafkaProducer) -> Any:
    """kafka-python's transaction manager of the producer: not public, but the only way to a
    bounded commit and to the producer id and epoch the broker gave."""
    manager = producer._transaction_manager
    assert manager is not None, "the relay's producer is transactional"
    return manager


def _producer_id_and_epoch(producer: KafkaProducer) -> tuple[int, int]:
    """What the broker gave the relay's transactional id at ``init_transactions``."""
    current = _transactions(producer).producer_id_and_epoch
    return int(current.producer_id), int(current.epoch)


def _commit(producer: KafkaProducer) -> None:
    """``commit_transaction``, bounded. kafka-python's waits without end for the broker's
    answer, and a broker killed during a commit may never give it: the relay would hang. On
    timeout it raises; the relay then drops the producer, and the next one's
    ``init_transactions`` makes the broker finish that commit (or abort the transaction)
    before the position is read back."""
    result = _transactions(producer).begin_commit()
    producer._sender.wakeup()
    if not result.wait(timeout_ms=COMMIT_TIMEOUT_S * 1000):
        raise KafkaTimeoutError(f"the batch's commit had no answer within {COMMIT_TIMEOUT_S} s")


def _wakeup(journal: Journal, db: Database) -> StoreWakeup | Polling:
    """The store's own notifications where it sends them (eventsourcing's PostgreSQL recorder, on
    the relay's database), a plain timeout otherwise."""
    channel = getattr(journal.recorder, "channel_name", None)
    conninfo = db.pool.conninfo if isinstance(db, PostgresDatabase) else None
    if channel and isinstance(conninfo, str):
        return StoreWakeup(conninfo, channel)
    return Polling()
