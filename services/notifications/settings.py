"""Settings of the notifications service, from environment variables prefixed
``PARCOURS_NOTIFICATIONS_``. The shared ones (mode, database, Kafka, alerts topic, host) stay in
``shared.runtime.settings.Settings``: this class only adds what delivering alerts needs."""

import ipaddress
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARCOURS_NOTIFICATIONS_", extra="ignore")

    port: int = 8001
    # Tests only: lets a webhook go to plain http on loopback. Every other internal address
    # stays refused, and production leaves it off (https to public addresses only).
    webhook_allow_loopback_http: bool = False
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    # 30 s doubling, 8 attempts: the last one comes 3,810 s after the first, so an endpoint
    # down for an hour still gets the alert.
    backoff_base_s: float = Field(default=30.0, gt=0)
    backoff_cap_s: float = Field(default=3600.0, gt=0)
    # A dispatcher that dies after claiming a delivery leaves it for this long before another
    # one may try it again; it must be longer than a send can take.
    claim_s: float = Field(default=120.0, gt=0)
    dispatch_interval_s: float = Field(default=1.0, gt=0)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "Parcours <alertes@parcours.invalid>"
    # E-mail goes out encrypted, the server's certificate verified: STARTTLS by default, or
    # implicit TLS (SMTPS, usually port 465). In clear only to a loopback server, when said.
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_ca_file: Path | None = None
    smtp_allow_plaintext: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    sse_keepalive_s: float = Field(default=15.0, gt=0)
    sse_poll_s: float = Field(default=1.0, gt=0)
    # Open streams per professional in one process: a new one closes the oldest, so a leaked
    # token or a reconnect loop cannot hold the server's connections.
    sse_max_streams: int = Field(default=3, ge=1)
    # What an e-mail or a webhook says: that an alert is waiting, and this page's link. The
    # alert itself (the person's name, what happened) only to receivers listed here as health
    # data systems: entries "@domain" (and its subdomains), "someone@domain", or a webhook
    # origin "https://host[:port]".
    public_url: str = "http://127.0.0.1:8000"
    health_data_receivers: list[str] = []

    @model_validator(mode="after")
    def _never_in_clear(self) -> Self:
        if not self.public_url.startswith(("https://", "http://")):
            raise ValueError("PARCOURS_NOTIFICATIONS_PUBLIC_URL must be an http(s) URL")
        for entry in self.health_data_receivers:
            if not (entry.startswith("https://") or "@" in entry):
                raise ValueError(f"PARCOURS_NOTIFICATIONS_HEALTH_DATA_RECEIVERS: {entry!r} "
                                 "is neither an e-mail address, an @domain nor an https:// "
                                 "origin")
        if self.smtp_allow_plaintext:
            if not is_loopback(self.smtp_host):
                raise ValueError(
                    "PARCOURS_NOTIFICATIONS_SMTP_ALLOW_PLAINTEXT is for a SMTP server on this "
                    f"machine only (a test one, a local relay): {self.smtp_host} is not a "
                    "loopback address")
        elif not (self.smtp_starttls or self.smtp_tls):
            raise ValueError(
                "e-mail would go in clear: keep PARCOURS_NOTIFICATIONS_SMTP_STARTTLS (or set "
                "PARCOURS_NOTIFICATIONS_SMTP_TLS); for a loopback test server only, "
                "PARCOURS_NOTIFICATIONS_SMTP_ALLOW_PLAINTEXT=true")
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
