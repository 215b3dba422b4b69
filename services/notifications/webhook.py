"""Webhooks: an HTTP POST of the alert as JSON, signed with HMAC-SHA256 over the raw body.

Receivers check ``X-Parcours-Signature: sha256=<hex>`` with the shared secret, and keep the
``X-Parcours-Delivery-Id`` values they have seen: a dispatcher killed between a send and its
record sends that delivery again, with the same id and the same body."""

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from services.notifications.sending import Outcome
from services.notifications.store import Delivery

SIGNATURE_HEADER = "X-Parcours-Signature"
DELIVERY_HEADER = "X-Parcours-Delivery-Id"
EVENT_HEADER = "X-Parcours-Event"
EVENT_TYPE = "alert.raised"


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """What a receiver does: compare in constant time."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)


def alert_document(delivery: Delivery) -> dict[str, Any]:
    """The alert as a receiver (or the stream) sees it: the same for every attempt."""
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


def body_of(delivery: Delivery) -> bytes:
    # Sorted keys and fixed separators: the same delivery always gives the same bytes.
    return json.dumps(alert_document(delivery), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


class WebhookSender:
    def __init__(self, secret: str, timeout_s: float = 10.0) -> None:
        self._secret = secret
        self.timeout_s = timeout_s

    def send(self, delivery: Delivery, attempt: int) -> Outcome:
        if not delivery.destination:
            return Outcome(False, error="aucune adresse webhook pour cette livraison")
        body = body_of(delivery)
        request = urllib.request.Request(
            delivery.destination, data=body, method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Parcours-Notifications/1",
                SIGNATURE_HEADER: sign(self._secret, body),
                DELIVERY_HEADER: delivery.delivery_id,
                EVENT_HEADER: EVENT_TYPE,
                "X-Parcours-Attempt": str(attempt),
            },
        )
        try:
            with _NO_REDIRECTS.open(request, timeout=self.timeout_s) as response:
                status = int(response.status)
        except urllib.error.HTTPError as error:
            return Outcome(False, http_status=error.code, error=f"réponse HTTP {error.code}")
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            return Outcome(False, error=f"échec de connexion : {reason}")
        if 200 <= status < 300:
            return Outcome(True, http_status=status)
        return Outcome(False, http_status=status, error=f"réponse HTTP {status}")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send (or drop) the signed body elsewhere: treat it as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)
