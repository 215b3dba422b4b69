"""Builds the notifications service's parts, for the embedded and the distributed mode.

Webhooks are signed with each subscription's own secret, issued when the professional sets
their address and shown to them once (``PUT /notifications/preferences/{id}``); there is no
platform-wide secret that one leaked receiver would give away for everyone."""

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial

from services.notifications import sse, store
from services.notifications.consumer import NotificationsProjection
from services.notifications.dispatcher import Dispatcher, DispatcherThread
from services.notifications.mailer import SmtpSender
from services.notifications.retry import RetryPolicy
from services.notifications.sending import Sender
from services.notifications.settings import NotificationSettings
from services.notifications.sse import Hub
from services.notifications.webhook import WebhookSender
from shared.domain.clock import Clock, system_clock
from shared.domain.principal import Principal
from shared.journal.visibility import Readable
from shared.storage.sqldb import Database
from shared.streaming.projecting import prepare

log = logging.getLogger(__name__)



@dataclass
class NotificationService:
    """Everything the router, the intake and the dispatcher share."""

    db: Database
    settings: NotificationSettings
    projection: NotificationsProjection
    dispatcher: Dispatcher
    hub: Hub
    clock: Clock
    readable: Readable
    territory_of: Callable[[str], str | None]
    """The territory of a pathway: an administrator operates their territory's deliveries."""
    # Embedded mode: brings the projection up to date before a read (like shared.api.http).
    catch_up: Callable[[], object] = field(default=lambda: None)

    def dispatcher_thread(self) -> DispatcherThread:
        return DispatcherThread(self.dispatcher, self.settings.dispatch_interval_s)

    def alert_stream(self, principal: Principal, last_event_id: str | None,
                     allowed: Callable[[], bool], shown: sse.Shown) -> AsyncIterator[str]:
        """The professional's alerts as server-sent events, after ``Last-Event-ID``, showing
        only the persons whose file they may read when each alert is sent. ``allowed``: whether
        the credential that opened the stream still holds; ``shown`` records each person shown
        in the audit, before it is shown. The web pages reach it through the app's state,
        without importing this service."""
        reader = sse.Reader(principal.id, partial(self.readable, principal), allowed, shown)
        return sse.stream(self.db, self.hub, reader, sse.parse_last_event_id(last_event_id),
                          self.settings.sse_keepalive_s, self.settings.sse_poll_s,
                          self.settings.sse_max_streams)


def build(db: Database, settings: NotificationSettings, readable: Readable,
          territory_of: Callable[[str], str | None], clock: Clock = system_clock,
          catch_up: Callable[[], object] = lambda: None) -> NotificationService:
    projection = NotificationsProjection(clock)
    prepare(db, projection)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None

    def secret_for(professional_id: str) -> str | None:
        with db.transaction() as tx:
            found = store.webhook_secret_of(tx, professional_id)
        return found[0] if found else None

    senders: dict[str, Sender] = {
        "webhook": WebhookSender(secret_for, settings.webhook_timeout_s,
                                 settings.webhook_allow_loopback_http),
        "email": SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                            settings.smtp_timeout_s, settings.smtp_starttls,
                            settings.smtp_username, password),
    }
    policy = RetryPolicy(settings.max_attempts, settings.backoff_base_s, settings.backoff_cap_s)
    dispatcher = Dispatcher(db, senders, policy, clock, settings.claim_s)
    return NotificationService(db, settings, projection, dispatcher, Hub(), clock, readable,
                               territory_of, catch_up)


def build_embedded(db: Database, readable: Readable,
                   territory_of: Callable[[str], str | None],
                   settings: NotificationSettings | None = None, clock: Clock = system_clock,
                   catch_up: Callable[[], object] = lambda: None) -> NotificationService:
    """``catch_up``: brings the embedded views up to the journal before a read."""
    return build(db, settings or NotificationSettings(), readable, territory_of, clock,
                 catch_up)


def build_distributed(db: Database, settings: NotificationSettings, readable: Readable,
                      territory_of: Callable[[str], str | None],
                      clock: Clock = system_clock) -> NotificationService:
    return build(db, settings, readable, territory_of, clock)
