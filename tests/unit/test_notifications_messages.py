"""What professionals read: the French e-mail and the stream's events. Pure: nothing is sent."""

import json
from dataclasses import replace

from services.notifications.mailer import compose
from services.notifications.sse import format_event, parse_last_event_id
from tests.unit.test_notifications_webhook import DELIVERY

EMAIL_DELIVERY = replace(DELIVERY, channel="email", destination="claire.exemple@exemple.invalid")


def test_the_email_is_in_french_with_a_message_id_per_delivery() -> None:
    message = compose(EMAIL_DELIVERY, "Parcours <alertes@parcours.exemple.invalid>")
    assert message["Subject"] == (
        "[Parcours] Alerte critique : Sortie d'hôpital sans réévaluation")
    assert message["To"] == "Dr Claire Exemple <claire.exemple@exemple.invalid>"
    assert message["Message-ID"] == f"<{EMAIL_DELIVERY.delivery_id}@parcours.exemple.invalid>"
    assert message["X-Parcours-Delivery-Id"] == EMAIL_DELIVERY.delivery_id
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert body.startswith("Bonjour Dr Claire Exemple,")
    assert "Gravité : critique" in body
    assert "Règle : R2" in body
    # 08:00 UTC on 4 March is 09:00 in Paris (winter time)
    assert "À traiter avant le : 04/03/2031 à 09:00" in body
    assert "Retour à domicile il y a 8 jours" in body
    assert EMAIL_DELIVERY.alert.alert_id in body


def test_a_stream_event_carries_its_sequence_as_id() -> None:
    text = format_event(DELIVERY)
    lines = text.split("\n")
    assert lines[0] == "id: 7"
    assert lines[1] == "event: alert"
    assert lines[2].startswith("data: ")
    assert text.endswith("\n\n") and text.count("\n") == 4  # data on a single line
    data = json.loads(lines[2].removeprefix("data: "))
    assert data["alert"]["title"] == "Sortie d'hôpital sans réévaluation"
    assert data["alert_status"] == "open"


def test_last_event_id_must_be_a_sequence_number() -> None:
    assert parse_last_event_id("42") == 42
    assert parse_last_event_id(" 42 ") == 42
    assert parse_last_event_id(None) is None
    assert parse_last_event_id("abc") is None
    assert parse_last_event_id("-1") is None
