"""Today is the territory's calendar day: between midnight in Paris and midnight UTC the
server's UTC date is yesterday, and a form defaulting to it was refused as before the facts."""

from datetime import UTC, date, datetime
from typing import Any, cast

from services.web import reads
from services.web.guard import Parts
from shared.api.http import _today
from shared.runtime.settings import Settings

HALF_PAST_MIDNIGHT_IN_PARIS = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


def clock() -> datetime:
    return HALF_PAST_MIDNIGHT_IN_PARIS


def test_the_api_s_today_is_the_day_in_paris() -> None:
    assert _today(clock, Settings()) == date(2026, 12, 8)
    assert _today(clock, Settings(time_zone="UTC")) == date(2026, 12, 7)


def test_the_pages_today_is_the_day_in_paris() -> None:
    unused = cast(Any, None)
    parts = Parts(Settings(), unused, unused, unused, clock, lambda: None)
    assert reads.today(parts) == date(2026, 12, 8)
