"""Riding out a PostgreSQL or Kafka restart: which errors are an outage, and how a process loop
waits for the end of one (capped exponential backoff, logged once per outage)."""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def is_outage(error: BaseException) -> bool:
    """True for an error that a restart of PostgreSQL or Kafka explains: the same work will
    succeed once the server is back. Anything else (a bug, a bad setting) is not retried."""
    import psycopg
    from eventsourcing.persistence import InterfaceError, OperationalError
    from kafka.errors import KafkaError
    from psycopg_pool import PoolTimeout

    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError | PoolTimeout
                  | OperationalError | InterfaceError | KafkaError | ConnectionError
                  | TimeoutError):
        return True
    # kafka-python raises its own errors wrapped in AssertionError/ValueError in a few paths
    # (a closed client during a broker loss); the cause tells.
    cause = error.__cause__ or error.__context__
    return cause is not None and cause is not error and is_outage(cause)


class Backoff:
    """Capped exponential waits between attempts, and one log line when an outage starts and
    one when it ends, whatever the number of attempts in between."""

    def __init__(self, what: str, log: logging.Logger, first_s: float = 0.2,
                 cap_s: float = 5.0) -> None:
        self.what, self.log = what, log
        self.first_s, self.cap_s = first_s, cap_s
        self.failures = 0
        self.since: float | None = None
        self.last: BaseException | None = None  # an outage's errors change as it goes

    def failed(self, error: BaseException, stop: threading.Event) -> None:
        """Records a failed attempt and waits before the next one (returns early on stop)."""
        said = f"{type(error).__name__}: {str(error).strip()[:200]}"
        if self.failures == 0:
            self.since = time.monotonic()
            self.log.warning("%s: unavailable (%s); retrying until it is back", self.what, said)
        elif type(error) is not type(self.last):
            self.log.info("%s: still unavailable (%s)", self.what, said)
        self.failures, self.last = self.failures + 1, error
        stop.wait(self.delay())

    def delay(self) -> float:
        return min(self.cap_s, self.first_s * 2 ** max(0, self.failures - 1))

    def succeeded(self) -> None:
        if self.failures and self.since is not None:
            self.log.warning("%s: back after %.1f s (%d attempts)", self.what,
                             time.monotonic() - self.since, self.failures)
        self.failures, self.since, self.last = 0, None, None


def retrying(work: Callable[[], T], backoff: Backoff, stop: threading.Event) -> T | None:
    """Runs ``work`` until it succeeds through outages; None when stopped first. An error that is
    not an outage propagates: the process should say what is wrong rather than spin."""
    while not stop.is_set():
        try:
            result = work()
        except Exception as error:
            if not is_outage(error):
                raise
            backoff.failed(error, stop)
            continue
        backoff.succeeded()
        return result
    return None


# eventsourcing's PostgreSQL recorder retries an operational error 10 times, 0.2 s apart
# (``@retry(..., max_attempts=10, wait=0.2)``), each attempt waiting the pool's timeout.
_LIBRARY_ATTEMPTS, _LIBRARY_PAUSE_S = 10, 0.2


def bound_store_wait(recorder: object, total_s: float) -> None:
    """Makes a command or read on the event store give up after about ``total_s`` when the
    database is away: the library's pool waits per attempt, and the library tries ten times,
    so each attempt gets a tenth of what is left after the pauses. (The library reads its
    pool timeout as whole seconds, which would make the bound ten times too long.)"""
    datastore = getattr(recorder, "datastore", None)
    pool = getattr(datastore, "pool", None)
    if pool is None:
        return  # SQLite: no pool, no outage
    per_attempt = (total_s - _LIBRARY_ATTEMPTS * _LIBRARY_PAUSE_S) / _LIBRARY_ATTEMPTS
    pool.timeout = max(0.1, per_attempt)
    pool.reconnect_timeout = reconnect_timeout(total_s)


def reconnect_timeout(wait_s: float) -> float:
    """How long a psycopg pool keeps retrying one lost connection before giving it up. Its
    delays double without a cap (1, 2, 4, 8 s…), so the default five minutes can leave a pool
    asleep for as long as the outage lasted once the database is back; a short one makes the
    next request start a fresh attempt instead."""
    return max(2.0, wait_s)
