"""A professional's choice of channels for rupture alerts, and the rules it must follow.

Pure: no I/O. A professional who never chose gets the stream only (``DEFAULT``): it needs no
address, and nothing leaves the platform until someone asks for it."""

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Channel = Literal["sse", "webhook", "email"]
CHANNELS: tuple[Channel, ...] = ("sse", "webhook", "email")

# Deliberately loose: the SMTP server has the last word; this catches typing mistakes.
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _checked_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("adresse e-mail invalide")
    return value


def _checked_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("l'adresse du webhook doit être une URL http:// ou https:// complète")
    if parts.username or parts.password:
        raise ValueError("l'adresse du webhook ne doit pas contenir d'identifiants")
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(_checked_email)]
WebhookUrl = Annotated[str, Field(max_length=2000), AfterValidator(_checked_url)]


class Preferences(BaseModel):
    """What a professional chose: at least one channel, with the address each one needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: list[Channel] = Field(min_length=1, description="sse, webhook, email")
    webhook_url: WebhookUrl | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _addresses(self) -> "Preferences":
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("un canal est cité deux fois")
        if "webhook" in self.channels and not self.webhook_url:
            raise ValueError("le canal webhook demande une adresse webhook_url")
        if "email" in self.channels and not self.email:
            raise ValueError("le canal email demande une adresse e-mail")
        return self

    def ordered_channels(self) -> list[Channel]:
        return [c for c in CHANNELS if c in self.channels]

    def destination(self, channel: Channel) -> str | None:
        """Where a delivery on this channel goes; None for the stream."""
        if channel == "webhook":
            return self.webhook_url
        if channel == "email":
            return self.email
        return None


DEFAULT = Preferences(channels=["sse"])


def encode_channels(channels: list[Channel]) -> str:
    return ",".join(c for c in CHANNELS if c in channels)


def decode_channels(stored: str) -> list[Channel]:
    return [c for c in CHANNELS if c in stored.split(",")]
