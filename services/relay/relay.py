"""Publishes the store's global log to Kafka, in order, keyed by pathway id.

The position is recorded in PostgreSQL only after Kafka acknowledged every record of the
batch, so a crash can only cause a batch to be published again, never to be skipped.
Consumers drop such copies by stream version (see ``shared.projecting``)."""

import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaProducer
from kafka.producer.future import FutureRecordMetadata

from shared.events import EventEnvelope
from shared.events.pseudonymise import FORMAT, pseudonymise, to_json
from shared.failpoints import failpoint
from shared.migrations import migrate
from shared.pathway.application import Journal, read_log
from shared.resilience import Backoff, is_outage
from shared.sqldb import Database

log = logging.getLogger(__name__)

ALERT_TYPES = {"AlertRaised", "AlertAcknowledged", "AlertResolved"}

class Relay:
    def __init__(
        self,
        journal: Journal,
        db: Database,
        producer: KafkaProducer,
        topic: str,
        alerts_topic: str | None = None,
        batch_size: int = 500,
        analytics: tuple[str, bytes] | None = None,
        new_producer: Callable[[], KafkaProducer] | None = None,
    ) -> None:
        self.journal = journal
        self.db = db
        self.producer: KafkaProducer | None = producer
        self.topic = topic
        self.alerts_topic = alerts_topic
        self.analytics = analytics
        self.batch_size = batch_size
        self.name = f"relay:{topic}"
        self.new_producer = new_producer
        self.saved = 0
        migrate(db)  # relay_positions cannot be rebuilt: a numbered migration makes it

    def position(self) -> int:
        """The last global position known to be on Kafka."""
        with self.db.transaction() as tx:
            row = tx.one("SELECT position FROM relay_positions WHERE name = :name",
                         {"name": self.name})
        return int(row[0]) if row else 0

    def publish_next_batch(self) -> int:
        entries = read_log(self.journal, self.position() + 1, self.batch_size)
        if not entries:
            return 0
        if self.producer is None and self.new_producer is not None:
            self.producer = self.new_producer()
        assert self.producer is not None, "a relay without a producer has a factory"
        sent = [
            future
            for _, envelope in entries
            if envelope is not None
            for future in self._send(envelope)
        ]
        self.producer.flush(timeout=30)
        for future in sent:
            future.get(timeout=30)  # raises if Kafka refused: the position stays where it was
        failpoint("relay.after_ack")
        self._save_position(entries[-1][0])
        self.saved = entries[-1][0]
        return len(entries)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.1) -> None:
        """Publishes until stopped, through restarts of PostgreSQL and Kafka: a failed batch is
        read again from the saved position (consumers drop what was already sent)."""
        published = 0
        last_report = time.monotonic()
        backoff = Backoff("relay", log)
        while not stop.is_set():
            try:
                count = self.publish_next_batch()
            except Exception as error:
                if not is_outage(error):
                    raise
                self._renew_producer(error)
                backoff.failed(error, stop)
                continue
            backoff.succeeded()
            published += count
            if time.monotonic() - last_report > 10 and published:
                # The position saved last, not read again: a log line must not need the database.
                log.info("relay: %d events published, position %d", published, self.saved)
                last_report, published = time.monotonic(), 0
            if count == 0:
                stop.wait(idle_wait_s)

    def _renew_producer(self, error: BaseException) -> None:
        """A producer that lost its broker mid-batch may hold failed sends: start afresh."""
        from kafka.errors import KafkaError

        if self.new_producer is None or not isinstance(error, KafkaError):
            return
        try:
            if self.producer is not None:
                self.producer.close(timeout=1)
        except Exception:  # the old one is being dropped whatever it says
            log.debug("relay: closing the old producer failed", exc_info=True)
        self.producer = None  # the next batch builds a new one once the broker answers

    def _send(self, envelope: EventEnvelope) -> list[FutureRecordMetadata]:
        """Every event goes to the pathway topic; alert events to the alerts topic too; and a
        pseudonymised copy to the analytics topic, when it is configured."""
        topics = [self.topic]
        if self.alerts_topic and envelope.type in ALERT_TYPES:
            topics.append(self.alerts_topic)
        producer = self.producer
        assert producer is not None
        key, value = str(envelope.pathway_id).encode(), envelope.to_json()
        headers = [
            ("event_id", str(envelope.event_id).encode()),
            ("type", envelope.type.encode()),
            ("schema_version", str(envelope.schema_version).encode()),
        ]
        sent = [producer.send(t, key=key, value=value, headers=headers) for t in topics]
        if self.analytics:
            topic, secret = self.analytics
            anonymous = pseudonymise(envelope, secret)  # None: a type not allowed out yet
            if anonymous is not None:
                sent.append(producer.send(
                    topic, key=anonymous["pathway"].encode(), value=to_json(anonymous),
                    headers=[*headers[1:], ("format", FORMAT.encode())]))
        return sent

    def _save_position(self, position: int) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO relay_positions (name, position) VALUES (:name, :position) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                {"name": self.name, "position": position},
            )
