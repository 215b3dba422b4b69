"""The notifications process of the distributed mode, built from the settings: the Kafka
intake, the dispatcher and the HTTP API (``services/notifications/process.py`` runs them).
Part of the composition root: reached through ``parcours.bootstrap.run_notifier``."""

import logging
import threading
from functools import partial

from parcours.web import notifications_app
from services.notifications import process
from services.notifications.outbound import configure
from services.notifications.service import NotificationService, build_distributed
from services.notifications.settings import NotificationSettings
from shared.api.auth import verifier_for
from shared.api.server import ApiServer
from shared.domain.clock import Clock, system_clock
from shared.journal.store import JournalReader
from shared.journal.visibility import readable_today, territory_of
from shared.runtime.resilience import Backoff, retrying
from shared.runtime.settings import Settings
from shared.runtime.startup import wait_for_services
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io

log = logging.getLogger(__name__)


class WrongModeError(RuntimeError):
    pass


def alerts_projector(settings: Settings, service: NotificationService
                     ) -> kafka_io.KafkaProjector:
    """The intake as a member of the group ``parcours.projection.notifications`` on the alerts
    topic; it resumes from the offsets stored with the deliveries."""
    on_alerts = settings.model_copy(update={"topic": settings.alerts_topic})
    return kafka_io.KafkaProjector(on_alerts, service.db, service.projection)


def files_reader(settings: Settings) -> JournalReader:
    """The journal, read only: a stream shows a person only while the file's rule lets its
    reader read them, decided on the file's own facts. The API process creates the store's
    tables; an alert exists only once they hold its events."""
    return JournalReader(settings.journal_env())


def run_notifier(settings: Settings, stop: threading.Event,
                 notifications: NotificationSettings | None = None,
                 clock: Clock = system_clock) -> None:
    """Returns when ``stop`` is set (SIGTERM, Ctrl-C), after the three parts have stopped. At
    start it waits for PostgreSQL and Kafka, and exits at once (status 1, the setting named)
    when the database URL or the bootstrap list can never work. It raises when the intake
    fails, so that a supervisor restarts the process; everything resumes from the
    database."""
    if settings.mode != "distributed":
        raise WrongModeError("the notifications process runs in the distributed mode "
                             "(PARCOURS_MODE=distributed); in the embedded mode `parcours "
                             "serve` delivers the alerts itself")
    notifications = notifications or NotificationSettings()
    anchor = AuditAnchor.from_settings(settings)  # before any wait: a missing key never works
    # Like the relay and the projections: a server away at start is waited for, a database
    # URL or Kafka bootstrap that can never work ends the process at once, naming it.
    if not wait_for_services(settings, stop, "notifications"):
        return  # stopped while waiting for PostgreSQL or Kafka
    kafka_io.ensure_topic(settings, settings.alerts_topic)
    db = PostgresDatabase(settings.database_url, max_size=8, wait_s=settings.db_wait_s)
    journal = files_reader(settings)
    try:
        starting = Backoff("notifications start-up", log)
        readable = readable_today(journal, lambda: clock().date())
        service = retrying(lambda: configure(build_distributed(
            db, notifications, readable, territory_of(journal), clock)), starting, stop)
        if service is None:
            return  # stopped while waiting for PostgreSQL
        projector = retrying(partial(alerts_projector, settings, service), starting, stop)
        if projector is None:
            return  # stopped while waiting for PostgreSQL or Kafka
        api = ApiServer(notifications_app(service, verifier_for(settings), anchor),
                        settings.host, notifications.port)
        process.serve(service, projector, api, stop, settings.alerts_topic)
    finally:
        journal.close()
        db.close()
