"""Kafka clients configured the one way Parcours uses them."""

import logging
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.events import EventEnvelope
from shared.runtime.failpoints import failpoint
from shared.runtime.resilience import Backoff, retrying
from shared.runtime.settings import Settings
from shared.storage.sqldb import Database
from shared.streaming.projecting import Projection, Record, apply_batch, prepare, stored_offsets

log = logging.getLogger(__name__)
RECONNECT_BACKOFF_MAX_MS = 1000
"""The longest wait between two attempts to reach a broker that went away (the Java clients'
default). With kafka-python's own, 30 s, the backoff doubles past a short broker restart and
holds the views and the alerts back long after the broker is back."""


def ensure_topic(settings: Settings, topic: str | None = None, timeout_s: float = 60) -> None:
    """Creates the topic when it does not exist yet (partitions from the settings)."""
    _create_topic(settings.kafka_bootstrap, topic or settings.topic,
                  {"num_partitions": settings.topic_partitions, "replication_factor": 1},
                  timeout_s)


def ensure_positions_topic(bootstrap: str, topic: str, timeout_s: float = 60) -> None:
    """The relay's position topic: one partition, compacted (only the last position of each
    relay matters)."""
    _create_topic(bootstrap, topic, {"num_partitions": 1, "replication_factor": 1,
                                     "configs": {"cleanup.policy": "compact"}}, timeout_s)


def _create_topic(bootstrap: str, name: str, spec: dict[str, object], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="parcours-admin")
            try:
                admin.create_topics({name: spec}, wait_for_metadata=True)
                log.info("created topic %s", name)
            except TopicAlreadyExistsError:
                pass
            finally:
                admin.close()
            return
        except KafkaError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Kafka at {bootstrap} did not answer ({error}). "
                    "Start it with `infra/kafka.sh start`."
                ) from error
            time.sleep(1)


def producer(settings: Settings, transactional: bool = True) -> KafkaProducer:
    """The relay's producer: transactional, so a batch and the relay's position are on the topic
    together or not at all (``services.relay``). One transactional id per published topic:
    a relay that starts fences the one it replaces and aborts the batch it left open.
    ``transactional=False`` is the bare idempotent producer the benchmark compares with."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id="parcours-relay",
        acks="all",
        # Idempotent and acks=all: a retried batch is written once and in order per partition.
        enable_idempotence=True,
        transactional_id=f"parcours-relay.{settings.topic}" if transactional else None,
        # A relay killed mid-batch and not restarted holds back read_committed consumers of
        # the partitions it wrote until the broker aborts its transaction: keep that short.
        transaction_timeout_ms=settings.relay_transaction_timeout_ms,
        max_in_flight_requests_per_connection=5,
        linger_ms=5,
        batch_size=256 * 1024,
        compression_type=None,
        reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
    )


def consumer(settings: Settings, group_id: str) -> KafkaConsumer:
    # Offsets live in PostgreSQL with the view; Kafka's committed offsets are never used.
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        # Only what the relay committed: a batch it left open when it died is never seen.
        isolation_level="read_committed",
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.consumer_max_poll_records,
        # A member killed with -9 holds its partitions until this expires.
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=max(1000, settings.consumer_session_timeout_ms // 4),
        # Also the rebalance timeout: after a broker restart the group waits this long for a
        # member that will not come back (the default, five minutes, stops every view).
        max_poll_interval_ms=30_000,
        # A group assigned while a new topic's partitions were not yet in the metadata gets
        # them at the next refresh: keep that seconds away, not the default five minutes.
        metadata_max_age_ms=5000,
        reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
    )


class _SeekAfterAssignment(ConsumerRebalanceListener):
    """Holds each newly assigned partition until the loop has read where the view's own
    transaction left it. Nothing here touches the database: an error raised in a rebalance
    listener kills the consumer, and the database may be restarting at that moment."""

    def __init__(self, projector: "KafkaProjector") -> None:
        self.projector = projector

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.projector.pending.difference_update(revoked)

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if assigned:
            self.projector.consumer.pause(*assigned)
            self.projector.pending.update(assigned)


class KafkaProjector:
    """Runs a projection as a member of its own consumer group, through restarts of PostgreSQL
    and Kafka: a failed batch is read again from the offsets stored with the view."""

    def __init__(self, settings: Settings, db: Database, projection: Projection) -> None:
        self.db = db
        self.projection = projection
        self.topic = settings.topic
        self.group_id = f"parcours.projection.{projection.name}"
        self.pending: set[TopicPartition] = set()
        prepare(db, projection)
        self.consumer = consumer(settings, self.group_id)
        self.consumer.subscribe([self.topic], listener=_SeekAfterAssignment(self))

    def _seek_pending(self) -> None:
        """Moves every held partition to the stored offset, then lets it be fetched."""
        if not self.pending:
            return
        offsets = stored_offsets(self.db, self.projection.name, self.topic)
        held = sorted(self.pending, key=lambda tp: tp.partition)
        for tp in held:
            if tp.partition in offsets:
                self.consumer.seek(tp, offsets[tp.partition])
            else:
                self.consumer.seek_to_beginning(tp)
        self.consumer.resume(*held)
        self.pending.difference_update(held)
        log.info("%s: resuming %s at %s", self.group_id, [tp.partition for tp in held],
                 {tp.partition: offsets.get(tp.partition, 0) for tp in held})

    def _hold_everything(self) -> None:
        """After a failed batch the consumer's positions are past what the view holds: read
        again from the stored offsets."""
        assigned = list(self.consumer.assignment())
        if assigned:
            self.consumer.pause(*assigned)
            self.pending.update(assigned)

    def poll_once(self, timeout_ms: int = 500) -> int:
        self._seek_pending()
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        records = [
            Record(tp.partition, message.offset, EventEnvelope.from_json(message.value))
            for tp, messages in batches.items()
            if tp not in self.pending  # assigned during this poll: not yet at its offset
            for message in messages
        ]
        try:
            applied = apply_batch(self.db, self.projection, self.topic, records)
        except Exception:
            self._hold_everything()
            raise
        if records:
            failpoint("projection.after_commit")
        return applied

    def run(self, stop: threading.Event) -> None:
        applied = 0
        last_report = time.monotonic()
        backoff = Backoff(self.group_id, log)
        try:
            while not stop.is_set():
                polled = retrying(self.poll_once, backoff, stop)
                if polled is None:
                    break  # stopped while waiting out an outage
                applied += polled
                if applied and time.monotonic() - last_report > 10:
                    log.info("%s: %d events applied", self.group_id, applied)
                    last_report = time.monotonic()
        finally:
            self.consumer.close()


class KafkaReplaySource:
    """Every partition of the topic from its beginning, outside any consumer group."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.topic
        self.consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                      isolation_level="read_committed",
                                      enable_auto_commit=False, max_poll_records=1000)
        partitions = self.consumer.partitions_for_topic(settings.topic) or set()
        self.partitions = [TopicPartition(settings.topic, p) for p in sorted(partitions)]
        self.consumer.assign(self.partitions)
        self.consumer.seek_to_beginning(*self.partitions)

    def total(self) -> int:
        end = self.consumer.end_offsets(self.partitions)
        return sum(max(0, end[tp] - self.consumer.position(tp)) for tp in self.partitions)

    def read(self, after: dict[int, int]) -> list[Record]:
        # The consumer's own position is ``after``: the rebuild hands back what it last read,
        # and this source reads every partition from its start, once.
        batches = self.consumer.poll(timeout_ms=1000)
        return [
            Record(tp.partition, message.offset, EventEnvelope.from_json(message.value))
            for tp, messages in batches.items()
            for message in messages
        ]

    def close(self) -> None:
        self.consumer.close()
