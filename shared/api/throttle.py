"""Failed sign-ins and refused tokens, counted per client address over a sliding window: past
a setting's worth, that address is answered 429 until its oldest failure leaves the window.
Other addresses are not affected, so an attacker cannot lock a professional out. Counted in
each process (a guess spread over several processes gets their sum, still bounded)."""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MOST_ADDRESSES = 10_000
"""Beyond this many addresses followed, the quietest are forgotten: the memory stays bounded."""


class Failures:
    def __init__(self, most: int = 20, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.most, self.window_s, self.clock = most, window_s, clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def wait_s(self, address: str | None) -> float:
        """How long this address must wait before its next attempt counts (0: it may try)."""
        if address is None:
            return 0.0
        with self._lock:
            failures = self._recent(address)
            if len(failures) < self.most:
                return 0.0
            return max(0.0, failures[0] + self.window_s - self.clock())

    def failed(self, address: str | None) -> None:
        if address is None:
            return
        with self._lock:
            self._recent(address).append(self.clock())
            if len(self._seen) > MOST_ADDRESSES:
                quietest = min(self._seen, key=lambda a: self._seen[a][-1])
                del self._seen[quietest]

    def _recent(self, address: str) -> deque[float]:
        failures = self._seen.setdefault(address, deque())
        horizon = self.clock() - self.window_s
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures


class Busy(Exception):
    """This caller already has one such request in progress."""


class OneEach:
    """At most one heavy request in progress per caller: thirty exports sent together by one
    user slowed everyone's; the second waits for the first to finish (429 meanwhile)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()

    @contextmanager
    def hold(self, caller: str) -> Iterator[None]:
        with self._lock:
            if caller in self._held:
                raise Busy(caller)
            self._held.add(caller)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(caller)
