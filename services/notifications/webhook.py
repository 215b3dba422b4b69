"""Webhooks: an HTTP POST as JSON, signed with the subscription's own secret: a notice that an
alert waits (its id and the link to the alerts page), or the whole alert for a receiver listed
as a health data system (``disclosure``).

The signature covers a timestamp and the raw body: ``X-Parcours-Timestamp: <unix seconds>`` and
``X-Parcours-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``, so a receiver can
refuse a replay older than five minutes. Receivers also keep the ``X-Parcours-Delivery-Id``
values they have seen: a dispatcher killed between a send and its record sends that delivery
again, with the same id and the same body.

The destination is checked and pinned at each send (``destinations.check``); failures are
recorded as stable codes (``webhook.timeout``…), never as a library's text, which can tell an
attacker what answers inside the network."""

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from services.notifications.destinations import (
    DestinationRefusedError,
    Resolver,
    Target,
    check,
)
from services.notifications.disclosure import NOTICE_ONLY, Disclosure
from services.notifications.sending import Outcome
from services.notifications.store import Delivery

SIGNATURE_HEADER = "X-Parcours-Signature"
TIMESTAMP_HEADER = "X-Parcours-Timestamp"
DELIVERY_HEADER = "X-Parcours-Delivery-Id"
EVENT_HEADER = "X-Parcours-Event"
EVENT_TYPE = "alert.raised"
REPLAY_WINDOW_S = 300

SecretLookup = Callable[[str], str | None]
"""The webhook secret of a professional's subscription, or None when there is none."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                      hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, timestamp: str | None, signature: str | None,
           now: float | None = None, window_s: int = REPLAY_WINDOW_S) -> bool:
    """What a receiver does: a recent timestamp, and the signature compared in constant time."""
    if signature is None or timestamp is None or not timestamp.isdigit():
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > window_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def alert_document(delivery: Delivery) -> dict[str, Any]:
    """The whole alert, as the stream and a health data receiver see it: the same for every
    attempt."""
    alert = delivery.alert
    return {
        "type": EVENT_TYPE,
        "delivery_id": delivery.delivery_id,
        "alert": {
            "alert_id": alert.alert_id,
            "pathway_id": alert.pathway_id,
            "rule": alert.rule,
            "severity": alert.severity,
            "title": alert.title,
            "message": alert.message,
            "due_at": alert.due_at,
            "raised_at": alert.raised_at,
        },
        "recipient": {
            "professional_id": delivery.professional_id,
            "name": delivery.recipient_name,
            "role": delivery.recipient_role,
        },
    }


def notice_document(delivery: Delivery, disclosure: Disclosure) -> dict[str, Any]:
    """What a receiver outside the health data perimeter is told: an alert waits, there."""
    return {
        "type": EVENT_TYPE,
        "delivery_id": delivery.delivery_id,
        "content": "notice",
        "alert": {"alert_id": delivery.alert.alert_id, "url": disclosure.alerts_link},
        "recipient": {"professional_id": delivery.professional_id},
    }


def body_of(delivery: Delivery, disclosure: Disclosure = NOTICE_ONLY) -> bytes:
    document = (alert_document(delivery)
                if disclosure.tells_everything_to("webhook", delivery.destination)
                else notice_document(delivery, disclosure))
    # Sorted keys and fixed separators: the same delivery always gives the same bytes.
    return json.dumps(document, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


class WebhookSender:
    def __init__(self, secret_for: SecretLookup, timeout_s: float = 10.0,
                 allow_loopback_http: bool = False, resolve: Resolver | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 disclosure: Disclosure = NOTICE_ONLY) -> None:
        self._secret_for = secret_for
        self.timeout_s = timeout_s
        self.allow_loopback_http = allow_loopback_http
        self.resolve = resolve
        self.wall_clock = wall_clock
        self.disclosure = disclosure

    def send(self, delivery: Delivery, attempt: int) -> Outcome:
        if not delivery.destination:
            return Outcome(False, error="webhook.no_address")
        secret = self._secret_for(delivery.professional_id)
        if not secret:
            return Outcome(False, error="webhook.no_secret")
        try:
            target = check(delivery.destination, self.allow_loopback_http, self.resolve)
        except DestinationRefusedError as refused:
            return Outcome(False, error=refused.code)
        body = body_of(delivery, self.disclosure)
        timestamp = str(int(self.wall_clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Parcours-Notifications/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            DELIVERY_HEADER: delivery.delivery_id,
            EVENT_HEADER: EVENT_TYPE,
            "X-Parcours-Attempt": str(attempt),
        }
        try:
            status = _post(target, body, headers, self.timeout_s)
        except TimeoutError:
            return Outcome(False, error="webhook.timeout")
        except ssl.SSLError:
            return Outcome(False, error="webhook.tls_failed")
        except http.client.HTTPException:
            return Outcome(False, error="webhook.bad_response")
        except OSError:
            return Outcome(False, error="webhook.connection_failed")
        if 200 <= status < 300:
            return Outcome(True, http_status=status)
        # Redirects are failures too: following one would send the signed body elsewhere.
        return Outcome(False, http_status=status, error="webhook.http_status")


def _post(target: Target, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHttps(target.host, target.port, target.address, timeout_s)
    else:
        connection = _PinnedHttp(target.host, target.port, target.address, timeout_s)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # the receiver's answer is not used; never read it whole
        return int(response.status)
    finally:
        connection.close()


class _PinnedHttp(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    """The same, with TLS checked against the host's name (certificate and SNI)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            sock, server_hostname=self.host)
