"""Woken by the store rather than polling it.

eventsourcing's PostgreSQL recorder sends ``NOTIFY <events table>`` in the transaction of every
insert: a relay with nothing to publish listens on that channel and reads the log again as soon
as a notification arrives, or after a timeout in case one was missed (a connection lost and
opened again, for instance)."""

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

_SLICE_S = 0.2
"""Longest single wait: a stop is noticed within it."""


class StoreWakeup:
    def __init__(self, conninfo: str, channel: str) -> None:
        self.conninfo, self.channel = conninfo, channel
        self.conn: Any = None

    def wait(self, timeout_s: float, stop: threading.Event) -> None:
        """Returns when new events were stored, after ``timeout_s``, or when stopped."""
        import psycopg

        try:
            if self.conn is None:
                self._listen()
                return  # listening from now on: the caller reads the log before waiting again
            deadline = time.monotonic() + timeout_s
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if any(True for _ in self.conn.notifies(timeout=min(_SLICE_S, left),
                                                        stop_after=1)):
                    for _ in self.conn.notifies(timeout=0):  # the rest say the same
                        pass
                    return
        except psycopg.Error as error:
            # No notification during an outage: the timeout wakes the relay, which waits the
            # outage out on its own; listening starts again once the database answers.
            log.debug("relay: not listening for new events (%s)", error)
            self.close()
            stop.wait(timeout_s)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        self.conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=2)
        self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


class Polling:
    """For a store that sends no notification (SQLite): waits out the timeout."""

    def wait(self, timeout_s: float, stop: threading.Event) -> None:
        stop.wait(timeout_s)

    def close(self) -> None:
        pass
