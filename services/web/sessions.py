"""The web session: a signed cookie holding who signed in and when they were last seen.

HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure unless the page
is served on loopback. A session ends after a setting of inactivity; every page refreshes it.
The CSRF token is derived from the session's random id, so it changes with each sign-in and
needs no storage."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from shared.domain.principal import Principal

COOKIE = "parcours_session"
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Session:
    sid: str
    principal: Principal
    seen: float


class Sessions:
    def __init__(self, key: bytes, idle_s: float) -> None:
        self.key, self.idle_s = key, idle_s

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
                          "territory": p.territory, "seen": session.seen})

    def decode(self, value: str | None, now: float | None = None) -> Session | None:
        """The session, or None when the cookie is missing, tampered with or idle too long."""
        data = self.unseal(value)
        if data is None or (now or time.time()) - float(data["seen"]) > self.idle_s:
            return None
        principal = Principal(data["id"], data["name"], data["role"], data["territory"])
        return Session(data["sid"], principal, float(data["seen"]))

    def start(self, principal: Principal) -> Session:
        return Session(secrets.token_urlsafe(16), principal, time.time())

    def csrf_token(self, session: Session) -> str:
        return self._sign(b"csrf:" + session.sid.encode())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")

    def write(self, request: Request, response: Response, session: Session) -> None:
        secure = request.url.hostname not in _LOOPBACK
        response.set_cookie(COOKIE, self.encode(session), httponly=True, samesite="strict",
                            secure=secure, path="/", max_age=int(self.idle_s))

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
