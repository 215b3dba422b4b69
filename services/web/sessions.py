"""The web session: a signed cookie holding who signed in, when they were last seen and when
the session ends at the latest; and the server's ledger of the sessions it opened.

HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure unless the page
is served on loopback. A session ends after a setting of inactivity (every page refreshes it),
at an absolute lifetime however active it is (and, after an identity provider's sign-in, when
its access token ends), and at sign-out: the ledger records the revocation, so a copy of the
cookie replayed afterwards opens nothing. The CSRF token is derived from the session's random
id, so it changes with each sign-in and needs no storage."""

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from shared.domain.principal import Principal
from shared.storage.sqldb import Database

COOKIE = "parcours_session"
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Session:
    sid: str
    principal: Principal
    seen: float
    expires: float = math.inf


def _digest(sid: str) -> str:
    # The ledger keeps no usable session id: a read of the table opens no session.
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionLedger:
    """The sessions the server opened, and those it ended before their time."""

    def __init__(self, database: Callable[[], Database]) -> None:
        self.database = database  # the views' database, opened after the app is built

    def opened(self, session: Session) -> None:
        with self.database().transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE expires_at < :now",
                       {"now": session.seen})
            tx.execute("INSERT INTO web_sessions (sid_hash, professional_id, started_at,"
                       " expires_at) VALUES (:sid, :who, :at, :until)",
                       {"sid": _digest(session.sid), "who": session.principal.id,
                        "at": session.seen, "until": session.expires})

    def holds(self, session: Session) -> bool:
        with self.database().transaction() as tx:
            row = tx.one("SELECT revoked_at FROM web_sessions WHERE sid_hash = :sid",
                         {"sid": _digest(session.sid)})
        return row is not None and row[0] is None

    def revoke(self, session: Session, now: float) -> None:
        with self.database().transaction() as tx:
            tx.execute("UPDATE web_sessions SET revoked_at = :now WHERE sid_hash = :sid",
                       {"sid": _digest(session.sid), "now": now})


class Sessions:
    def __init__(self, key: bytes, idle_s: float, absolute_s: float = 12 * 3600,
                 ledger: SessionLedger | None = None) -> None:
        self.key, self.idle_s, self.absolute_s, self.ledger = key, idle_s, absolute_s, ledger

    def _sign(self, raw: bytes) -> str:
        return hmac.new(self.key, raw, hashlib.sha256).hexdigest()

    def seal(self, data: dict[str, object], purpose: bytes = b"") -> str:
        """What the pages hand the browser to give back unchanged: JSON, signed."""
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode() + "." + self._sign(purpose + raw)

    def unseal(self, value: str | None, purpose: bytes = b"") -> dict[str, Any] | None:
        """The sealed data, or None when missing or tampered with."""
        if not value or "." not in value:
            return None
        body, signature = value.rsplit(".", 1)
        try:
            raw = base64.urlsafe_b64decode(body.encode())
        except ValueError:
            return None
        if not hmac.compare_digest(self._sign(purpose + raw), signature):
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    def encode(self, session: Session) -> str:
        p = session.principal
        return self.seal({"sid": session.sid, "id": p.id, "name": p.name, "role": p.role,
                          "territory": p.territory, "seen": session.seen,
                          "expires": session.expires if math.isfinite(session.expires)
                          else None})

    def decode(self, value: str | None, now: float | None = None) -> Session | None:
        """The session, or None when the cookie is missing or tampered with, idle too long,
        past its lifetime, or signed out."""
        data = self.unseal(value)
        now = now or time.time()
        if data is None or now - float(data["seen"]) > self.idle_s:
            return None
        principal = Principal(data["id"], data["name"], data["role"], data["territory"])
        expires = data.get("expires")
        session = Session(data["sid"], principal, float(data["seen"]),
                          math.inf if expires is None else float(expires))
        return session if self.alive(session, now) else None

    def alive(self, session: Session, now: float | None = None) -> bool:
        """Not past its lifetime, not signed out: what an open alert stream asks again."""
        if (now or time.time()) >= session.expires:
            return False
        return self.ledger is None or self.ledger.holds(session)

    def start(self, principal: Principal, until: float | None = None) -> Session:
        """A new session, recorded; ``until``: when the identity provider's token ends."""
        now = time.time()
        session = Session(secrets.token_urlsafe(16), principal, now,
                          min(now + self.absolute_s, until or math.inf))
        if self.ledger is not None:
            self.ledger.opened(session)
        return session

    def end(self, session: Session) -> None:
        if self.ledger is not None:
            self.ledger.revoke(session, time.time())

    def csrf_token(self, session: Session) -> str:
        return self._sign(b"csrf:" + session.sid.encode())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")

    def write(self, request: Request, response: Response, session: Session) -> None:
        secure = request.url.hostname not in _LOOPBACK
        lasts = min(self.idle_s, max(0.0, session.expires - time.time()))
        response.set_cookie(COOKIE, self.encode(session), httponly=True, samesite="strict",
                            secure=secure, path="/", max_age=int(lasts))

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
