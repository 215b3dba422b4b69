"""Builds the notifications service's parts, for the embedded and the distributed mode.

The webhook secret: in the distributed mode it must be given (``PARCOURS_NOTIFICATIONS_WEBHOOK_
SECRET``), the same for every process; the service refuses to start without it. In the embedded
mode, when it is not given, one is generated at first start and kept in the database (table
``notification_secrets``), so that it stays the same across restarts; ``webhook_secret(db)``
reads it back for whoever configures the receivers."""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.notifications import store
from services.notifications.consumer import NotificationsProjection
from services.notifications.dispatcher import Dispatcher, DispatcherThread, utc_now
from services.notifications.mailer import SmtpSender
from services.notifications.retry import RetryPolicy
from services.notifications.sending import Sender
from services.notifications.settings import NotificationSettings
from services.notifications.sse import Hub
from services.notifications.webhook import WebhookSender
from shared.projecting import prepare
from shared.sqldb import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SECRET_NAME = "webhook"


class MissingSecretError(RuntimeError):
    pass


@dataclass
class NotificationService:
    """Everything the router, the intake and the dispatcher share."""

    db: Database
    settings: NotificationSettings
    projection: NotificationsProjection
    dispatcher: Dispatcher
    hub: Hub
    clock: Clock
    # Embedded mode: brings the projection up to date before a read (like shared.http).
    catch_up: Callable[[], object] = field(default=lambda: None)

    def dispatcher_thread(self) -> DispatcherThread:
        return DispatcherThread(self.dispatcher, self.settings.dispatch_interval_s)


def build(db: Database, settings: NotificationSettings, secret: str,
          clock: Clock = utc_now) -> NotificationService:
    projection = NotificationsProjection(clock)
    prepare(db, projection)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    senders: dict[str, Sender] = {
        "webhook": WebhookSender(secret, settings.webhook_timeout_s),
        "email": SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                            settings.smtp_timeout_s, settings.smtp_starttls,
                            settings.smtp_username, password),
    }
    policy = RetryPolicy(settings.max_attempts, settings.backoff_base_s, settings.backoff_cap_s)
    dispatcher = Dispatcher(db, senders, policy, clock, settings.claim_s)
    return NotificationService(db, settings, projection, dispatcher, Hub(), clock)


def build_embedded(db: Database, settings: NotificationSettings | None = None,
                   clock: Clock = utc_now) -> NotificationService:
    """The embedded mode: the secret is generated and stored on first start when not given."""
    settings = settings or NotificationSettings()
    prepare(db, NotificationsProjection(clock))
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
    else:
        with db.transaction() as tx:
            secret = store.stored_secret(tx, SECRET_NAME, secrets.token_hex(32), clock())
        log.info("webhook secret: generated or read from the database (table "
                 "notification_secrets); set PARCOURS_NOTIFICATIONS_WEBHOOK_SECRET to choose it")
    return build(db, settings, secret, clock)


def build_distributed(db: Database, settings: NotificationSettings,
                      clock: Clock = utc_now) -> NotificationService:
    """The distributed mode: every process must sign with the same, given secret."""
    return build(db, settings, required_secret(settings), clock)


def required_secret(settings: NotificationSettings) -> str:
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise MissingSecretError(
            "PARCOURS_NOTIFICATIONS_WEBHOOK_SECRET is not set: the distributed mode needs the "
            "webhook signing secret (e.g. `python -c 'import secrets; print(secrets.token_hex"
            "(32))'`), the same for every notifications process."
        )
    return settings.webhook_secret.get_secret_value()


def webhook_secret(db: Database) -> str | None:
    """The secret the embedded mode generated, for configuring the receivers."""
    with db.transaction() as tx:
        row = tx.one("SELECT value FROM notification_secrets WHERE name = :name",
                     {"name": SECRET_NAME})
    return str(row[0]) if row else None
