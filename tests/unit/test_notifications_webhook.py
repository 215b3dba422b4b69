"""Webhook signing and body: what a receiver relies on. Pure: no network."""

import hashlib
import hmac
import json
from dataclasses import replace

from services.notifications import store
from services.notifications.disclosure import Disclosure
from services.notifications.webhook import (
    alert_document,
    body_of,
    notice_document,
    sign,
    verify,
)

PLATFORM = Disclosure("https://parcours.exemple.invalid")

ALERT = store.Alert(
    alert_id="8d1e1f0e-4c55-4b0c-9d1b-0f3f7c9e2a01",
    pathway_id="0b7c2d3e-1111-4a4a-8b8b-222233334444",
    event_id="1a2b3c4d-5555-4e4e-9f9f-666677778888",
    rule="R2", severity="critical", title="Sortie d'hôpital sans réévaluation",
    message="Retour à domicile il y a 8 jours : aucune évaluation de retour.",
    due_at="2031-03-04T08:00:00.000000+00:00", raised_at="2031-03-01T08:00:00.000000+00:00",
    status="open",
)
DELIVERY = store.Delivery(
    delivery_id=store.delivery_id_for(ALERT.alert_id, "pro-1", "webhook"), seq=7,
    professional_id="pro-1", recipient_name="Dr Claire Exemple", recipient_role="attending_gp",
    channel="webhook", destination="https://recepteur.exemple.invalid/alertes",
    status="pending", attempts=0, next_attempt_at=None, created_at=ALERT.raised_at,
    updated_at=ALERT.raised_at, sent_at=None, last_error=None, alert=ALERT,
)


def test_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_raw_body_in_hex() -> None:
    expected = hmac.new(b"Jefe", b"1700000000." + b"{}", hashlib.sha256).hexdigest()
    assert sign("Jefe", "1700000000", b"{}") == f"sha256={expected}"


def test_a_receiver_verifies_with_its_secret_and_refuses_an_old_timestamp() -> None:
    body, now = body_of(DELIVERY), 1_900_000_000
    timestamp = str(now)
    signature = sign("secret-de-test", timestamp, body)
    assert verify("secret-de-test", body, timestamp, signature, now=now + 299)
    assert not verify("secret-de-test", body, timestamp, signature, now=now + 301)  # a replay
    assert not verify("autre-secret", body, timestamp, signature, now=now)
    assert not verify("secret-de-test", body + b" ", timestamp, signature, now=now)
    assert not verify("secret-de-test", body, str(now + 1), signature, now=now)
    assert not verify("secret-de-test", body, timestamp, None, now=now)
    assert not verify("secret-de-test", body, None, signature, now=now)


def test_the_body_is_the_same_bytes_for_every_attempt_and_carries_the_delivery_id() -> None:
    assert body_of(DELIVERY) == body_of(DELIVERY)
    document = json.loads(body_of(DELIVERY, PLATFORM))
    assert document == notice_document(DELIVERY, PLATFORM)
    assert document["type"] == "alert.raised"
    assert document["delivery_id"] == DELIVERY.delivery_id
    assert document["content"] == "notice"
    # That an alert waits, and where: nothing of the person nor of what happened.
    assert document["alert"] == {"alert_id": ALERT.alert_id,
                                 "url": "https://parcours.exemple.invalid/alertes"}
    assert document["recipient"] == {"professional_id": "pro-1"}
    assert b"h\xc3\xb4pital" not in body_of(DELIVERY, PLATFORM)


def test_a_receiver_listed_as_a_health_data_system_gets_the_whole_alert() -> None:
    listed = replace(PLATFORM, health_data_receivers=("https://recepteur.exemple.invalid",))
    document = json.loads(body_of(DELIVERY, listed))
    assert document == alert_document(DELIVERY)
    assert document["alert"]["title"] == "Sortie d'hôpital sans réévaluation"
    assert document["recipient"] == {"professional_id": "pro-1", "name": "Dr Claire Exemple",
                                     "role": "attending_gp"}
    assert "hôpital".encode() in body_of(DELIVERY, listed)  # UTF-8, not \\u escapes
    # Only that origin, and only over https.
    for other in ("https://recepteur.exemple.invalid:8443", "https://autre.exemple.invalid",
                  "http://recepteur.exemple.invalid"):
        elsewhere = replace(PLATFORM, health_data_receivers=(other,))
        assert json.loads(body_of(DELIVERY, elsewhere))["content"] == "notice", other


def test_delivery_ids_are_stable_per_alert_recipient_and_channel() -> None:
    one = store.delivery_id_for(ALERT.alert_id, "pro-1", "webhook")
    assert one == store.delivery_id_for(ALERT.alert_id, "pro-1", "webhook")
    assert one != store.delivery_id_for(ALERT.alert_id, "pro-1", "email")
    assert one != store.delivery_id_for(ALERT.alert_id, "pro-2", "webhook")
