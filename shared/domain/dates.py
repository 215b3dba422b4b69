"""Turning a fact's date into the moment it happened, and checking that the date is plausible.

A fact typed with a date and no time happened at the start of that day in the territory's
time zone; the rules and views read that moment, the audit reads when it was written."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = ZoneInfo("Europe/Paris")


def start_of_day(day: date, zone: ZoneInfo = DEFAULT_TIME_ZONE) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def moment(fact: date | datetime, zone: ZoneInfo = DEFAULT_TIME_ZONE) -> datetime:
    """The moment of a fact given as a date (start of the day) or as a date and time."""
    return fact if isinstance(fact, datetime) else start_of_day(fact, zone)


def local_day(fact: date | datetime, zone: ZoneInfo = DEFAULT_TIME_ZONE) -> date:
    """The calendar day of a fact in the territory, whatever zone its time was given in."""
    return fact.astimezone(zone).date() if isinstance(fact, datetime) else fact


def french(day: date) -> str:
    return day.strftime("%d/%m/%Y")
