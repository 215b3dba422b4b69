"""What every channel's sender answers, so that the dispatcher treats them alike."""

from dataclasses import dataclass
from typing import Protocol

from services.notifications.store import Delivery


@dataclass(frozen=True)
class Outcome:
    """One attempt: sent or not, the HTTP status when there was one, the error as a stable code
    (``webhook.timeout``, ``email.connection_failed``…)."""

    ok: bool
    http_status: int | None = None
    error: str | None = None


class Sender(Protocol):
    def send(self, delivery: Delivery, attempt: int) -> Outcome: ...
