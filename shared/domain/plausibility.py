"""Is a typed date plausible? Never in the future, never before the fact it follows.

The moment of writing comes from the command's ``Meta``; a fact may always be recorded late."""

import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.domain.commands import Meta
from shared.domain.dates import french, local_day, moment
from shared.domain.errors import ImplausibleInputError, RuleBrokenError

Bound = tuple[date | datetime | None, str]
"""A date the fact may not precede, and how to name it to the person typing."""


def require_plausible(fact: date | datetime, meta: Meta, *bounds: Bound) -> None:
    require_not_in_future(fact, meta)
    for bound, what in bounds:
        if bound is not None and _before(fact, bound, meta.zone):
            day = local_day(bound, meta.zone)
            raise RuleBrokenError(
                "date.out_of_order",
                f"Cette date précède {what} ({french(day)}) : corrigez la date saisie.",
                not_before=day.isoformat(),
            )


def require_not_in_future(fact: date | datetime, meta: Meta) -> None:
    limit = meta.now + meta.future_tolerance
    if moment(fact, meta.zone) > limit:
        raise ImplausibleInputError(
            "date.in_future",
            f"Cette date est dans le futur (au-delà du {french(local_day(limit, meta.zone))}) : "
            "corrigez la date saisie.",
            latest=local_day(limit, meta.zone).isoformat(),
        )


def comparable(value: object) -> str:
    """Traits compared as people read them: case, accents typed or not and spacing aside."""
    text = " ".join(str(value).split()).casefold()
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c))


def _before(fact: date | datetime, bound: date | datetime, zone: ZoneInfo) -> bool:
    """Two moments compare as moments; a day compares with the other fact's day."""
    if isinstance(fact, datetime) and isinstance(bound, datetime):
        return fact < bound
    return local_day(fact, zone) < local_day(bound, zone)
