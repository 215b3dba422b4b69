"""Crash points for the fault tests: ``PARCOURS_FAILPOINTS="relay.before_commit=3"`` makes the
process kill itself with SIGKILL the third time it passes ``relay.before_commit``.

Unset in production, a failpoint costs one dictionary lookup."""

import os
import signal
from collections import Counter

_armed: dict[str, int] = {}
for item in filter(None, os.environ.get("PARCOURS_FAILPOINTS", "").split(",")):
    name, _, nth = item.partition("=")
    _armed[name.strip()] = int(nth or 1)
_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    if name not in _armed:
        return
    _hits[name] += 1
    if _hits[name] >= _armed[name]:
        os.kill(os.getpid(), signal.SIGKILL)
