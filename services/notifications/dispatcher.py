"""The worker that sends due deliveries, records every attempt and schedules the retries.

One delivery at a time: claim it (its own short transaction), send it, record the outcome (a
second transaction). When PostgreSQL is away at the record, the outcome is kept and the record
tried again until the database is back: an outage does not send anything twice. A process
killed (or stopped during such an outage) between the send and the record sends that delivery
again once its claim expires: the only double send there can be, with the same delivery id
(webhook header, e-mail Message-ID) so that receivers drop the copy. The clock is injected:
tests move it forward instead of sleeping through the backoff."""

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from services.notifications import store
from services.notifications.retry import RetryPolicy
from services.notifications.sending import Outcome, Sender
from shared.domain.clock import Clock, system_clock
from shared.runtime.failpoints import failpoint
from shared.runtime.resilience import Backoff, is_outage, retrying
from shared.storage.sqldb import Database

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, db: Database, senders: Mapping[str, Sender], policy: RetryPolicy,
                 clock: Clock = system_clock, claim_s: float = 120.0) -> None:
        self.db = db
        self.senders = dict(senders)
        self.policy = policy
        self.clock = clock
        self.claim = timedelta(seconds=claim_s)
        self.recording = Backoff("notifications dispatcher (recording a send)", log)

    def run_once(self, limit: int = 1000, stop: threading.Event | None = None) -> int:
        """Sends every delivery due now (at most ``limit``); returns how many were tried.
        ``stop`` ends the wait for the database to record a send (the process is stopping)."""
        stop = stop or threading.Event()
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
            # The send happened: its outcome must reach the store, or the claim's expiry would
            # send it again. Outages are waited out; anything else still ends the round.
            record = partial(self._record, delivery, outcome, attempt)
            if retrying(record, self.recording, stop) is None:
                return tried  # stopped while the database was away: the one documented window
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

    def _record(self, delivery: store.Delivery, outcome: Outcome, attempt: int) -> bool:
        with self.db.transaction() as tx:
            if store.attempts_made(tx, delivery.delivery_id) >= attempt:
                # Tried again after a commit whose answer the outage lost: already recorded
                # (the claim keeps every other dispatcher off this delivery meanwhile).
                return True
            now = self.clock()
            if outcome.ok:
                store.record_sent(tx, delivery.delivery_id, now, outcome.http_status)
                return True
            failures = delivery.attempts + 1
            next_at = self.policy.next_attempt(now, failures)
            store.record_failure(tx, delivery.delivery_id, now, next_at, outcome.http_status,
                                 outcome.error or "delivery.failed")
        if next_at is None:
            log.warning("delivery %s (%s) is dead after %d attempts: %s",
                        delivery.delivery_id, delivery.channel, failures, outcome.error)
        return True

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        # The database may be away for a moment: the rows wait, nothing is lost. An outage is
        # logged once (not once per round); anything else once per failed round.
        outage = Backoff("notifications dispatcher", log, first_s=interval_s)
        while not stop.is_set():
            try:
                self.run_once(stop=stop)
            except Exception as error:
                if is_outage(error):
                    outage.failed(error, stop)  # waits before the next round
                    continue
                log.exception("dispatcher round failed; trying again")
            else:
                outage.succeeded()
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
