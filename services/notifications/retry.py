"""When to try a failed delivery again, and when to give up. Pure: no clock, no I/O."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 30.0
    cap_s: float = 3600.0

    def delay_after(self, failures: int) -> timedelta:
        """Wait after the ``failures``-th failed attempt in a row: base, 2·base, 4·base… capped."""
        if failures < 1:
            raise ValueError("failures counts from 1")
        # min() before the power would overflow on absurd counts; 2**62 is already far past any cap
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** min(failures - 1, 62)))

    def is_exhausted(self, failures: int) -> bool:
        return failures >= self.max_attempts

    def next_attempt(self, failed_at: datetime, failures: int) -> datetime | None:
        """When to try again after this failure; None when the delivery is dead."""
        if self.is_exhausted(failures):
            return None
        return failed_at + self.delay_after(failures)

    def schedule(self, start: datetime) -> list[datetime]:
        """Every attempt's time if all of them fail: the first at ``start``."""
        times = [start]
        for failures in range(1, self.max_attempts):
            times.append(times[-1] + self.delay_after(failures))
        return times
