"""What professionals read: the French e-mail and the stream's events. Pure: nothing is sent."""

import json
from dataclasses import replace

from services.notifications.disclosure import Disclosure
from services.notifications.mailer import compose
from services.notifications.sse import format_event, parse_last_event_id
from tests.unit.test_notifications_webhook import DELIVERY

EMAIL_DELIVERY = replace(DELIVERY, channel="email", destination="claire.exemple@exemple.invalid")
PLATFORM = Disclosure("https://parcours.exemple.invalid")


def test_the_email_is_in_french_with_a_message_id_per_delivery() -> None:
    message = compose(EMAIL_DELIVERY, "Parcours <alertes@parcours.exemple.invalid>",
                      disclosure=PLATFORM)
    assert message["Subject"] == "[Parcours] Une alerte vous attend"
    assert message["To"] == "Dr Claire Exemple <claire.exemple@exemple.invalid>"
    assert message["Message-ID"] == f"<{EMAIL_DELIVERY.delivery_id}@parcours.exemple.invalid>"
    assert message["X-Parcours-Delivery-Id"] == EMAIL_DELIVERY.delivery_id
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert body.startswith("Bonjour,\n")
    assert "Une alerte vous attend dans Parcours." in body
    assert "connectez-vous : https://parcours.exemple.invalid/alertes" in body
    assert EMAIL_DELIVERY.alert.alert_id in body
    # Nothing of what happened, nor of whom: not the title, the message, the rule, the file.
    alert = EMAIL_DELIVERY.alert
    for said in (alert.title, alert.message, "hôpital", "Règle", alert.pathway_id):
        assert said not in body and said not in str(message["Subject"]), said


def test_a_health_data_mailbox_gets_the_whole_alert() -> None:
    for listed in ("@exemple.invalid", "claire.exemple@EXEMPLE.invalid"):
        disclosure = replace(PLATFORM, health_data_receivers=(listed,))
        message = compose(EMAIL_DELIVERY, "Parcours <alertes@parcours.exemple.invalid>",
                          disclosure=disclosure)
        assert message["Subject"] == (
            "[Parcours] Alerte critique : Sortie d'hôpital sans réévaluation")
        body = message.get_content()
        assert body.startswith("Bonjour Dr Claire Exemple,")
        assert "Gravité : critique" in body
        assert "Règle : R2" in body
        # 08:00 UTC on 4 March is 09:00 in Paris (winter time)
        assert "À traiter avant le : 04/03/2031 à 09:00" in body
        assert "Retour à domicile il y a 8 jours" in body
        assert "https://parcours.exemple.invalid/alertes" in body
    # A domain entry covers its subdomains, not a domain that merely ends alike.
    assert replace(PLATFORM, health_data_receivers=("@invalid",)).tells_everything_to(
        "email", EMAIL_DELIVERY.destination)
    assert not replace(PLATFORM, health_data_receivers=("@ple.invalid",)).tells_everything_to(
        "email", EMAIL_DELIVERY.destination)


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
