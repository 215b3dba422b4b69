"""The worker that sends due deliveries, records every attempt and schedules the retries.

One delivery at a time: claim it (its own short transaction), send it, record the outcome (a
second transaction). A process killed between the send and the record sends that delivery
again once its claim expires: the only double send there can be, with the same delivery id
(webhook header, e-mail Message-ID) so that receivers drop the copy. The clock is injected:
tests move it forward instead of sleeping through the backoff."""

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta

from services.notifications import store
from services.notifications.retry import RetryPolicy
from services.notifications.sending import Outcome, Sender
from shared.clock import Clock, system_clock
from shared.failpoints import failpoint
from shared.sqldb import Database

log = logging.getLogger(__name__)





class Dispatcher:
    def __init__(self, db: Database, senders: Mapping[str, Sender], policy: RetryPolicy,
                 clock: Clock = system_clock, claim_s: float = 120.0) -> None:
        self.db = db
        self.senders = dict(senders)
        self.policy = policy
        self.clock = clock
        self.claim = timedelta(seconds=claim_s)

    def run_once(self, limit: int = 1000) -> int:
        """Sends every delivery due now (at most ``limit``); returns how many were tried."""
        tried = 0
        while tried < limit:
            with self.db.transaction() as tx:
                now = self.clock()
                delivery = store.claim_next(tx, now, now + self.claim)
                attempt = 0 if delivery is None else store.attempts_made(
                    tx, delivery.delivery_id) + 1
            if delivery is None:
                return tried
            outcome = self._send(delivery, attempt)
            failpoint("notifications.after_send")
            self._record(delivery, outcome)
            tried += 1
        return tried

    def _send(self, delivery: store.Delivery, attempt: int) -> Outcome:
        sender = self.senders.get(delivery.channel)
        if sender is None:
            return Outcome(False, error="delivery.channel_unavailable")
        try:
            return sender.send(delivery, attempt)
        except Exception:  # a sender bug must not kill the worker nor lose the row
            log.exception("sending %s failed unexpectedly", delivery.delivery_id)
            return Outcome(False, error="delivery.internal_error")

    def _record(self, delivery: store.Delivery, outcome: Outcome) -> None:
        with self.db.transaction() as tx:
            now = self.clock()
            if outcome.ok:
                store.record_sent(tx, delivery.delivery_id, now, outcome.http_status)
                return
            failures = delivery.attempts + 1
            next_at = self.policy.next_attempt(now, failures)
            store.record_failure(tx, delivery.delivery_id, now, next_at, outcome.http_status,
                                 outcome.error or "delivery.failed")
        if next_at is None:
            log.warning("delivery %s (%s) is dead after %d attempts: %s",
                        delivery.delivery_id, delivery.channel, failures, outcome.error)

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                # The database may be away for a moment: the rows wait, nothing is lost.
                log.exception("dispatcher round failed; trying again")
            stop.wait(interval_s)


class DispatcherThread:
    """Runs a dispatcher in a background thread for the life of a ``with`` block."""

    def __init__(self, dispatcher: Dispatcher, interval_s: float = 1.0) -> None:
        self.dispatcher = dispatcher
        self.interval_s = interval_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=dispatcher.run, args=(self.stop, interval_s),
                                       name="notifications-dispatcher", daemon=True)

    def __enter__(self) -> "DispatcherThread":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
