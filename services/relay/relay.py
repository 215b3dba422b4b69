"""Publishes the store's global log to Kafka, in order, keyed by pathway id, each event once.

Each batch is one Kafka transaction holding the batch's records and the relay's new position
(``services.relay.positions``): consumers reading committed records see the whole batch with
its position, or nothing of it. A relay killed at any moment leaves at most an open
transaction, which the next one aborts when it starts (same transactional id) before reading
its position back from Kafka; so it publishes again exactly what was not committed. The
consumers' stream-version check (``shared.projecting``) stays as a second guard."""

import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaProducer

from services.relay.positions import DEFAULT_TOPIC, KafkaPositions
from services.relay.wakeup import Polling, StoreWakeup
from shared import kafka_io
from shared.events import EventEnvelope
from shared.events.pseudonymise import FORMAT, pseudonymise, to_json
from shared.failpoints import failpoint
from shared.migrations import migrate
from shared.pathway.application import Journal, read_log
from shared.resilience import Backoff, is_outage
from shared.sqldb import Database, PostgresDatabase

log = logging.getLogger(__name__)

ALERT_TYPES = {"AlertRaised", "AlertAcknowledged", "AlertResolved"}


class Relay:
    def __init__(
        self,
        journal: Journal,
        db: Database,
        new_producer: Callable[[], KafkaProducer],
        topic: str,
        alerts_topic: str | None = None,
        batch_size: int = 500,
        analytics: tuple[str, bytes] | None = None,
        positions_topic: str = DEFAULT_TOPIC,
    ) -> None:
        """``new_producer`` makes a transactional producer (``kafka_io.producer``): the relay
        makes a new one after any failure, which aborts whatever the old one left open."""
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
        migrate(db)  # relay_positions: where a relay upgraded from at-least-once starts

    def position(self) -> int:
        """The last global position committed on Kafka (read from Kafka once per producer)."""
        if self._position is None:
            self._start()
        assert self._position is not None
        return self._position

    def _start(self) -> None:
        """A producer whose transactions are initialised, and the position Kafka holds."""
        if self.producer is None:
            self.producer = self.new_producer()
        bootstrap = self.producer.config["bootstrap_servers"]
        if self.positions is None:
            kafka_io.ensure_positions_topic(bootstrap, self.positions_topic)
            self.positions = KafkaPositions(bootstrap, self.positions_topic, self.name)
        # Aborts the transaction a killed relay left open (or waits for the commit it had
        # begun), and fences any relay still running with the same transactional id.
        self.producer.init_transactions()
        committed = self.positions.read()
        if committed is None:
            committed = self._position_before_transactions()
            log.info("relay: no position on Kafka yet; starting from %d", committed)
        self._position = committed

    def publish_next_batch(self) -> int:
        position = self.position()
        entries = read_log(self.journal, position + 1, self.batch_size)
        if not entries:
            return 0
        producer, positions = self.producer, self.positions
        assert producer is not None and positions is not None
        last = entries[-1][0]
        try:
            producer.begin_transaction()
            for _, envelope in entries:
                if envelope is not None:
                    self._send(producer, envelope)
            topic, key, value = positions.record(last)
            producer.send(topic, key=key, value=value)
            producer.flush(timeout=30)  # bounded: commit_transaction itself waits forever
            failpoint("relay.before_commit")  # the records are on the broker, not committed
            producer.commit_transaction()  # raises if any record of the batch failed
        except BaseException:
            self._forget()
            raise
        self._position = last
        failpoint("relay.after_commit")
        return len(entries)

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
                try:
                    count = self.publish_next_batch()
                except Exception as error:
                    if not is_outage(error):
                        raise
                    backoff.failed(error, stop)
                    continue
                backoff.succeeded()
                published += count
                if time.monotonic() - last_report > 10 and published:
                    log.info("relay: %d events published, position %d", published,
                             self._position or 0)
                    last_report, published = time.monotonic(), 0
                if count < self.batch_size:
                    self.wakeup.wait(idle_wait_s, stop)
        finally:
            self.wakeup.close()

    def close(self) -> None:
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

    def _send(self, producer: KafkaProducer, envelope: EventEnvelope) -> None:
        """Every event goes to the pathway topic; alert events to the alerts topic too; and a
        pseudonymised copy to the analytics topic, when it is configured. Delivery is checked
        by the transaction's commit, not record by record."""
        key, value = str(envelope.pathway_id).encode(), envelope.to_json()
        headers = [
            ("event_id", str(envelope.event_id).encode()),
            ("type", envelope.type.encode()),
            ("schema_version", str(envelope.schema_version).encode()),
        ]
        producer.send(self.topic, key=key, value=value, headers=headers)
        if self.alerts_topic and envelope.type in ALERT_TYPES:
            producer.send(self.alerts_topic, key=key, value=value, headers=headers)
        if self.analytics:
            topic, secret = self.analytics
            anonymous = pseudonymise(envelope, secret)  # None: a type not allowed out yet
            if anonymous is not None:
                producer.send(topic, key=anonymous["pathway"].encode(), value=to_json(anonymous),
                              headers=[*headers[1:], ("format", FORMAT.encode())])

    def _position_before_transactions(self) -> int:
        """Where the at-least-once relay (which kept its position in PostgreSQL) stopped: 0 on
        a new installation. Never written any more: Kafka's position is the only one."""
        with self.db.transaction() as tx:
            row = tx.one("SELECT position FROM relay_positions WHERE name = :name",
                         {"name": self.name})
        return int(row[0]) if row else 0


def _wakeup(journal: Journal, db: Database) -> StoreWakeup | Polling:
    """The store's own notifications where it sends them (eventsourcing's PostgreSQL recorder, on
    the relay's database), a plain timeout otherwise."""
    channel = getattr(journal.recorder, "channel_name", None)
    conninfo = db.pool.conninfo if isinstance(db, PostgresDatabase) else None
    if channel and isinstance(conninfo, str):
        return StoreWakeup(conninfo, channel)
    return Polling()
