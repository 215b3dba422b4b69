"""The pool's pre-ping is skipped only for a connection lent a moment ago."""

from typing import Any

import pytest

from shared.journal import mapper as persistence
from shared.journal.mapper import RecentlyChecked


class _Connection:
    """Stands for a pooled connection (weakly referenced, like psycopg's)."""


def test_a_connection_idle_longer_than_a_moment_is_checked_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(persistence.time, "monotonic", lambda: now[0])
    checked: list[Any] = []
    check = RecentlyChecked(checked.append, fresh_s=1.0)
    first, second = _Connection(), _Connection()

    check(first)
    now[0] += 0.5
    check(first)  # lent half a second ago: no round trip
    check(second)  # never seen: checked
    now[0] += 1.5
    check(first)  # idle for longer than the moment: checked again

    assert checked == [first, second, first]
