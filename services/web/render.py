"""Templates and the French formatting of dates, ages, INS and codes."""

from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.web import labels

PARIS = ZoneInfo("Europe/Paris")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def _parse(value: Any) -> date | datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text) if "T" in text or " " in text else \
        date.fromisoformat(text)


def french_date(value: Any) -> str:
    day = _parse(value)
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = day.astimezone(PARIS).date() if day.tzinfo else day.date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def french_datetime(value: Any) -> str:
    moment = _parse(value)
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return french_date(moment)
    local = moment.astimezone(PARIS) if moment.tzinfo else moment
    return f"{french_date(local.date())} à {local.hour:02d} h {local.minute:02d}"


def masked_ins(ins: str | None) -> str:
    """The INS partly masked: enough to tell two persons apart, not to copy it."""
    if not ins:
        return "—"
    return f"{ins[0]} {ins[1:3]} •• •• ••• ••• {ins[-2:]}"


def age_on(birth: date | str | None, day: date) -> str:
    if birth is None:
        return "—"
    born = birth if isinstance(birth, date) else date.fromisoformat(birth)
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return f"{years} ans"


_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)
_env.filters.update(date=french_date, datetime=french_datetime, ins=masked_ins,
                    label=labels.label)
_env.globals.update(labels=labels, age_on=age_on, form_key=lambda: uuid4().hex)


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = getattr(request.state, "web_session", None)
    csrf = getattr(request.state, "csrf", "")
    html = _env.get_template(template).render(
        request=request, session=session, user=session.principal if session else None,
        csrf=csrf, path=request.url.path, **context)
    return HTMLResponse(html, status)
