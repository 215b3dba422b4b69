"""Settings of the notifications service, from environment variables prefixed
``PARCOURS_NOTIFICATIONS_``. The shared ones (mode, database, Kafka, alerts topic, host) stay in
``shared.runtime.settings.Settings``: this class only adds what delivering alerts needs."""

from pydantic import Field, SecretStr
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
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    sse_keepalive_s: float = Field(default=15.0, gt=0)
    sse_poll_s: float = Field(default=1.0, gt=0)
    # Open streams per professional in one process: a new one closes the oldest, so a leaked
    # token or a reconnect loop cannot hold the server's connections.
    sse_max_streams: int = Field(default=3, ge=1)
