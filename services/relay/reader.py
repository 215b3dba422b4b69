"""Reading the store's log and encoding Kafka records, inline or a batch ahead in a process of
its own.

Both halves of the relay's work are Python on the CPU: decoding stored events into envelopes,
and kafka-python's ``send``. In one process they take turns under the interpreter's lock; with
the reading in a second process, the next batch is decoded on the other core while this one is
sent and committed, which brings the relay near the bare producer's rate. The relay still decides
everything that matters for exactly once: it asks for a batch from the position it committed,
and checks that the batch it gets starts there."""

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kafka.partitioner.default import murmur2

from shared.events import EventEnvelope
from shared.events.pseudonymise import FORMAT, Analytics, to_json
from shared.journal.application import Journal
from shared.journal.store import read_log, read_referrals

log = logging.getLogger(__name__)

ALERT_TYPES = {"AlertRaised", "AlertAcknowledged", "AlertResolved"}

KafkaRecord = tuple[str, bytes, bytes, list[tuple[str, bytes]], int]
"""topic, key, value, headers, and the key's hash as kafka-python's default partitioner computes
it (murmur2, positive): computed here, off the relay's busy thread."""


@dataclass(frozen=True)
class Encoder:
    """What the relay sends for an event: the pathway topic always, the alerts topic for alert
    events, and a pseudonymised copy to the analytics topic when it is configured.

    The analytics copy of a referral depends on the referrals before it in the log (how many
    persons share its traits): ``read_batch`` counts them first when a batch does not follow
    the one it encoded last."""

    topic: str
    alerts_topic: str | None = None
    analytics: tuple[str, Analytics] | None = None

    def records(self, envelope: EventEnvelope) -> list[KafkaRecord]:
        key, value = str(envelope.pathway_id).encode(), envelope.to_json()
        headers = [
            ("event_id", str(envelope.event_id).encode()),
            ("type", envelope.type.encode()),
            ("schema_version", str(envelope.schema_version).encode()),
        ]
        hashed = key_hash(key)
        records = [(self.topic, key, value, headers, hashed)]
        if self.alerts_topic and envelope.type in ALERT_TYPES:
            records.append((self.alerts_topic, key, value, headers, hashed))
        if self.analytics:
            topic, analytics = self.analytics
            anonymous = analytics.record(envelope)  # None: a type not allowed out yet
            if anonymous is not None:
                pseudonym = anonymous["pathway"].encode()
                records.append((topic, pseudonym, to_json(anonymous),
                                [*headers[1:], ("format", FORMAT.encode())], key_hash(pseudonym)))
        return records


@lru_cache(maxsize=1 << 16)
def key_hash(key: bytes) -> int:
    """The default partitioner's hash: a key's partition is this modulo the partition count.
    kafka-python computes it in Python, a tenth of the reader's time; a pathway's events
    share their key, and a pseudonym is the same for all of a pathway's events too."""
    return murmur2(key) & 0x7FFFFFFF


@dataclass(frozen=True)
class Batch:
    start: int  # the position asked for
    last: int  # the last global position read; 0 when there was nothing
    entries: int  # log entries read (pathway events and others)
    records: list[KafkaRecord] = field(default_factory=list)


def read_batch(journal: Journal, encoder: Encoder, start: int, size: int) -> Batch:
    analytics = encoder.analytics[1] if encoder.analytics else None
    if analytics is not None and analytics.position != start - 1:
        # A restart, or a batch read ahead and abandoned: count from the log itself, so that
        # the records are the same whatever batches the log was read in.
        analytics.restart(read_referrals(journal, start - 1), start)
    entries = read_log(journal, start, size)
    try:
        records = [record for _, envelope in entries if envelope is not None
                   for record in encoder.records(envelope)]
    except BaseException:
        if analytics is not None:
            analytics.position = -1  # counted part of a batch: count anew next time
        raise
    if analytics is not None and entries:
        analytics.position = entries[-1][0]
    return Batch(start, entries[-1][0] if entries else 0, len(entries), records)


class InlineReader:
    """Reads in the relay's own process (SQLite stores, tests)."""

    def __init__(self, journal: Journal, encoder: Encoder, size: int) -> None:
        self.journal, self.encoder, self.size = journal, encoder, size

    def open(self) -> None:
        pass

    def batch(self, start: int) -> Batch:
        return read_batch(self.journal, self.encoder, start, self.size)

    def close(self) -> None:
        pass


READY = "ready"
AHEAD = 3
"""Pages read and encoded ahead of the relay at most (beside the one in the pipe)."""


class ReaderGoneError(ConnectionError):
    """The reading process died or did not answer: an outage to wait out, then start anew."""


class ProcessReader:
    """Reads in a child process, a few pages ahead: asked for the page at ``start``, the child
    reads that page and the following ones until the end of the log (a page not full), a few
    pages ahead of the relay at most, then waits to be asked again.

    A page is known by its start: a page read earlier from the same start is as good as one
    read now (notification ids are committed in order, so what a read saw is a prefix of what
    a later one sees), and pages of an abandoned stream with other starts are skipped."""

    def __init__(self, env: dict[str, str], encoder: Encoder, size: int,
                 answer_timeout_s: float = 120) -> None:
        self.env, self.encoder, self.size = env, encoder, size
        self.answer_timeout_s = answer_timeout_s
        self.process: Any = None
        self.asked: int | None = None  # the start of the batch the child is reading

    def open(self) -> None:
        """Starts the reading process (when it is not running) and waits until it is ready."""
        if self.process is None or not self.process.is_alive():
            self._spawn()

    def batch(self, start: int) -> Batch:
        self.open()
        if self.asked != start:
            self._ask(start)
        got: Batch = self._answer()
        while got.start != start:  # a page of a stream the relay abandoned
            got = self._answer()
        # A full page: the child goes on with the next one. Otherwise it waits for a question.
        self.asked = got.last + 1 if got.entries == self.size else None
        return got

    def _spawn(self) -> None:
        self.close()
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        # A pipe, not queues: nothing left behind (no semaphore) when the relay is killed, and
        # its buffer is the read-ahead's bound (the child waits while a page is not taken).
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_serve, args=(self.env, self.encoder, self.size, child, os.getpid()),
            name="parcours-relay-reader", daemon=True)
        self.process.start()
        child.close()
        self.asked = None
        if self._answer() != READY:
            raise RuntimeError("the relay's reading process did not start")

    def _ask(self, start: int) -> None:
        self.conn.send(start)
        self.asked = start

    def _answer(self) -> Any:
        deadline = time.monotonic() + self.answer_timeout_s
        while True:
            try:
                if self.conn.poll(0.5):
                    answer = self.conn.recv()
                    break
            except (EOFError, OSError):
                pass  # the child is gone: said below
            if not self.process.is_alive() or time.monotonic() > deadline:
                self.close()
                raise ReaderGoneError("the relay's reading process died or did not answer")
        if isinstance(answer, Batch | str):
            return answer
        self.asked = None  # the question failed: ask again next time
        outage, message = answer
        if outage:
            raise ReaderGoneError(f"reading the store: {message}")
        raise RuntimeError(f"reading the store: {message}")

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join(timeout=5)
            self.conn.close()
            self.process = None
            self.asked = None


def _serve(env: dict[str, str], encoder: Encoder, size: int, conn: Any, parent: int) -> None:
    """The child: from each start it is given, reads and hands over page after page until the
    end of the log, then waits for the next start; exits when the relay is gone."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the relay stops it, not the terminal
    from shared.runtime.resilience import is_outage

    journal = Journal(env=env)
    # Pages go out through a thread: reading goes on while a page waits in the pipe, up to
    # AHEAD pages ahead of the relay.
    pages: queue.Queue[object] = queue.Queue(maxsize=AHEAD)
    threading.Thread(target=_hand_over, args=(pages, conn), daemon=True).start()
    pages.put(READY)
    start: int | None = None  # where the stream goes on; None: waiting for a question
    while True:
        try:
            if conn.poll(1 if start is None else 0):
                start = conn.recv()  # a new start wins over the stream under way
            elif start is None:
                if os.getppid() != parent:
                    return
                continue
        except (EOFError, OSError):
            os._exit(0)  # the relay is gone
        assert start is not None
        try:
            batch = read_batch(journal, encoder, start, size)
        except Exception as error:
            pages.put((is_outage(error), f"{type(error).__name__}: {error}"[:500]))
            start = None
            continue
        pages.put(batch)  # waits while the relay is AHEAD pages behind
        start = batch.last + 1 if batch.entries == size else None


def _hand_over(pages: "queue.Queue[object]", conn: Any) -> None:
    while True:
        page = pages.get()
        try:
            conn.send(page)
        except (EOFError, OSError):
            os._exit(0)  # the relay is gone


def _die_with(parent: int) -> None:
    """A relay killed with -9 must not leave its reader behind (Linux: the kernel kills it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        log.debug("relay reader: no parent-death signal here; watching the parent instead")
    if os.getppid() != parent:  # already gone before the signal was armed
        os._exit(0)
