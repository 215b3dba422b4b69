"""Crash points for the fault tests: ``PARCOURS_FAILPOINTS="relay.before_commit=3"`` makes the
process kill itself with SIGKILL the third time it passes ``relay.before_commit``.

``name=pause`` holds the process at that point instead, so that a test can break something else
at exactly that moment (kill the broker between the relay's send and its commit). The gate is a
pair of files in ``PARCOURS_FAILPOINT_DIR``: the test creates ``<name>.armed``; the process, on
passing the point, removes it, creates ``<name>.reached`` and waits for ``<name>.go``, which it
removes before going on. Unarmed, a pausing failpoint lets the process through.

Unset in production, a failpoint costs one dictionary lookup."""

import os
import signal
import time
from collections import Counter
from pathlib import Path

PAUSE = "pause"
_armed: dict[str, str] = {}
for item in filter(None, os.environ.get("PARCOURS_FAILPOINTS", "").split(",")):
    name, _, how = item.partition("=")
    _armed[name.strip()] = how.strip() or "1"
_hits: Counter[str] = Counter()


def failpoint(name: str) -> None:
    how = _armed.get(name)
    if how is None:
        return
    if how == PAUSE:
        _pause(name)
        return
    _hits[name] += 1
    if _hits[name] >= int(how):
        os.kill(os.getpid(), signal.SIGKILL)


def _pause(name: str) -> None:
    gate = Path(os.environ["PARCOURS_FAILPOINT_DIR"])
    armed, reached, go = (gate / f"{name}.{suffix}" for suffix in ("armed", "reached", "go"))
    try:
        armed.unlink()
    except FileNotFoundError:
        return
    reached.touch()
    while not go.exists():
        time.sleep(0.005)  # a test gate, never set in production
    go.unlink()
    reached.unlink()
