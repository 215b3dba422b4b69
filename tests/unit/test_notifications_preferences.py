"""Channel preferences: which choices are accepted, with messages in French."""

import pytest
from pydantic import ValidationError

from services.notifications.preferences import (
    DEFAULT,
    Preferences,
    decode_channels,
    encode_channels,
)


def test_the_default_is_the_stream_only() -> None:
    assert DEFAULT.channels == ["sse"]
    assert DEFAULT.destination("sse") is None


def test_every_channel_with_its_address() -> None:
    chosen = Preferences(channels=["email", "webhook", "sse"],
                         webhook_url="https://recepteur.exemple.invalid/alertes",
                         email="claire.exemple@exemple.invalid")
    assert chosen.ordered_channels() == ["sse", "webhook", "email"]
    assert chosen.destination("webhook") == "https://recepteur.exemple.invalid/alertes"
    assert chosen.destination("email") == "claire.exemple@exemple.invalid"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"channels": []}, "at least 1"),
        ({"channels": ["sms"]}, "sse"),
        ({"channels": ["sse", "sse"]}, "un canal est cité deux fois"),
        ({"channels": ["webhook"]}, "le canal webhook demande une adresse webhook_url"),
        ({"channels": ["email"]}, "le canal email demande une adresse e-mail"),
        ({"channels": ["email"], "email": "pas-une-adresse"}, "adresse e-mail invalide"),
        ({"channels": ["webhook"], "webhook_url": "ftp://exemple.invalid/x"}, "http"),
        ({"channels": ["webhook"], "webhook_url": "https://"}, "http"),
        ({"channels": ["webhook"], "webhook_url": "https://moi:motdepasse@exemple.invalid/"},
         "identifiants"),
        ({"channels": ["sse"], "fax": "0100000000"}, "Extra inputs"),
    ],
)
def test_invalid_choices_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        Preferences.model_validate(data)
    assert message in str(error.value)


def test_an_address_may_be_kept_for_a_channel_switched_off() -> None:
    kept = Preferences(channels=["sse"], email="claire.exemple@exemple.invalid")
    assert kept.channels == ["sse"] and kept.email == "claire.exemple@exemple.invalid"


def test_channels_are_stored_in_a_fixed_order() -> None:
    assert encode_channels(["email", "sse"]) == "sse,email"
    assert decode_channels("sse,email") == ["sse", "email"]
    assert decode_channels("email,inconnu") == ["email"]
