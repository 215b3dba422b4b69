"""The web session cookie and the form helpers: pure logic, no browser."""

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from services.web import forms
from services.web.render import french_date, french_datetime, masked_ins
from services.web.sessions import Session, Sessions
from shared.domain.principal import Principal
from shared.events import Closed

ANNE = Principal("gc-anne", "Anne Fictif", "case_manager", "dac-val-fictif")


def test_a_session_round_trips_and_ends_after_the_idle_time() -> None:
    sessions = Sessions(b"k" * 32, idle_s=600)
    cookie = sessions.encode(Session("sid", ANNE, seen=1000.0))
    back = sessions.decode(cookie, now=1500.0)
    assert back is not None and back.principal == ANNE
    assert sessions.decode(cookie, now=1601.0) is None


def test_a_tampered_or_foreign_cookie_is_no_session() -> None:
    sessions = Sessions(b"k" * 32, idle_s=600)
    cookie = sessions.encode(Session("sid", ANNE, seen=1000.0))
    _, signature = cookie.rsplit(".", 1)
    forged = sessions.encode(Session("sid", Principal("gc-anne", "A", "coordinator",
                                                       "dac-val-fictif"), 1000.0))
    assert sessions.decode(forged.rsplit(".", 1)[0] + "." + signature, now=1001.0) is None
    assert sessions.decode(cookie[:-1] + ("0" if cookie[-1] != "0" else "1"), now=1001) is None
    assert Sessions(b"x" * 32, 600).decode(cookie, now=1001.0) is None
    assert sessions.decode("not a cookie") is None and sessions.decode(None) is None


def test_the_csrf_token_belongs_to_one_session() -> None:
    sessions = Sessions(b"k" * 32, idle_s=600)
    one, other = Session("one", ANNE, 0), Session("other", ANNE, 0)
    assert sessions.csrf_ok(one, sessions.csrf_token(one))
    assert not sessions.csrf_ok(other, sessions.csrf_token(one))
    assert not sessions.csrf_ok(one, None) and not sessions.csrf_ok(one, "")


def test_form_fields_named_by_path_give_errors_named_by_field() -> None:
    data = forms.nest({"closed_on": "pas une date", "reason_code": "stabilisation",
                       "comment": "", "csrf": "x"})
    assert data == {"closed_on": "pas une date", "reason_code": "stabilisation"}
    try:
        forms.validate(Closed, data)
    except forms.FormError as mistakes:
        assert mistakes.errors == {"closed_on": "Date invalide : choisissez une date "
                                                "(jj/mm/aaaa)."}
    else:
        raise AssertionError("an invalid date was accepted")
    try:
        forms.validate(Closed, {"closed_on": "2026-01-02", "reason_code": "stabilisation"})
    except forms.FormError as mistakes:  # a rule across fields: for the whole form
        assert "relais" in mistakes.errors[forms.GENERAL]
    else:
        raise AssertionError("a stabilisation without hand-over was accepted")


def test_french_dates_in_paris_time_and_a_masked_ins() -> None:
    assert french_date("2026-03-01") == "1 mars 2026"
    assert french_datetime(datetime.fromisoformat("2026-07-14T22:30:00+00:00")) == \
        "15 juillet 2026 à 00 h 30"
    assert forms.paris_datetime("2026-01-10T08:15") == "2026-01-10T08:15:00+01:00"
    masked = masked_ins("269054958815780")
    assert masked.startswith("2 69") and masked.endswith("80") and "4958815" not in masked


def _request(host: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [
        (b"host", host.encode())], "query_string": b"", "scheme": "http",
        "server": (host, 80)})


def test_the_cookie_is_secure_outside_loopback_only() -> None:
    sessions = Sessions(b"k" * 32, idle_s=600)
    for host, secure in (("127.0.0.1:8000", False), ("parcours.dac.example", True)):
        response = Response()
        sessions.write(_request(host), response, Session("sid", ANNE, 0))
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert ("secure" in cookie.replace("samesite", "")) is secure, host
