"""The notifications process of the distributed mode: Kafka intake, dispatcher, HTTP API.

``run(settings, stop)`` returns when ``stop`` is set (SIGTERM, Ctrl-C), after the three parts
have stopped. At start it waits for PostgreSQL and Kafka, and exits at once (status 1, the
setting named) when the database URL or the bootstrap list can never work. It raises when the
intake fails, so that a supervisor restarts the process; everything resumes from the
database."""

import logging
import signal
import sys
import threading
import time
from functools import partial

import uvicorn
from fastapi import FastAPI

from services.notifications.api import router
from services.notifications.outbound import configure
from services.notifications.service import (
    Clock,
    NotificationService,
    build_distributed,
)
from services.notifications.settings import NotificationSettings
from shared.api import access_log, openapi
from shared.api.auth import DevelopmentKeyError, TokenVerifier, verifier_for
from shared.api.http import install_error_handlers
from shared.api.read_audit import AuditResponses
from shared.domain.clock import system_clock
from shared.journal.store import JournalReader
from shared.journal.visibility import readable_today, territory_of
from shared.runtime.resilience import Backoff, retrying
from shared.runtime.settings import Settings
from shared.runtime.startup import wait_for_services
from shared.storage.audit import AuditLog, AuditSetupError
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io

log = logging.getLogger(__name__)


class WrongModeError(RuntimeError):
    pass


def create_app(service: NotificationService, verifier: TokenVerifier,
               anchor: AuditAnchor) -> FastAPI:
    app = FastAPI(title="Parcours — alertes",
                  description="Diffusion des alertes de rupture de parcours aux professionnels.",
                  version="0.1.0")
    install_error_handlers(app)
    app.add_middleware(AuditResponses)
    app.state.notifications, app.state.verifier = service, verifier
    app.state.audit = AuditLog(service.db, anchor)
    openapi.install(app)
    app.include_router(router)

    @app.get("/health", tags=["exploitation"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": "notifications"}

    return app


class ApiServer:
    """uvicorn in a background thread (it then leaves the signal handlers alone)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                log_config=access_log.log_config(),
                                timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="notifications-api",
                                       daemon=True)

    def start(self, timeout_s: float = 30) -> "ApiServer":
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the notifications API did not start (port taken?)")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def alerts_projector(settings: Settings, service: NotificationService
                     ) -> kafka_io.KafkaProjector:
    """The intake as a member of the group ``parcours.projection.notifications`` on the alerts
    topic; it resumes from the offsets stored with the deliveries."""
    on_alerts = settings.model_copy(update={"topic": settings.alerts_topic})
    return kafka_io.KafkaProjector(on_alerts, service.db, service.projection)


def consume(projector: kafka_io.KafkaProjector, service: NotificationService,
            stop: threading.Event) -> None:
    """Takes alerts in until stopped, through restarts of PostgreSQL and Kafka."""
    backoff = Backoff("notifications intake", log)
    try:
        while not stop.is_set():
            applied = retrying(projector.poll_once, backoff, stop)
            if applied:
                service.hub.notify()  # wake this process's streams without waiting for a poll
    finally:
        projector.consumer.close()


def files_reader(settings: Settings) -> JournalReader:
    """The journal, read only: a stream shows a person only while the file's rule lets its
    reader read them, decided on the file's own facts. The API process creates the store's
    tables; an alert exists only once they hold its events."""
    return JournalReader(settings.journal_env())


def run(settings: Settings, stop: threading.Event,
        notifications: NotificationSettings | None = None, clock: Clock = system_clock) -> None:
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
    failure: list[BaseException] = []
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

        def intake() -> None:
            try:
                consume(projector, service, stop)
            except BaseException as error:
                log.exception("alert intake failed: stopping the process")
                failure.append(error)
                stop.set()

        intake_thread = threading.Thread(target=intake, name="notifications-intake")
        api = ApiServer(create_app(service, verifier_for(settings), anchor), settings.host,
                        notifications.port)
        with service.dispatcher_thread():
            intake_thread.start()
            try:
                api.start()
                log.info("notifications: %s → deliveries; API on http://%s:%d",
                         settings.alerts_topic, settings.host, notifications.port)
                stop.wait()
            finally:
                stop.set()  # also when the API could not start: the intake must end too
                service.hub.close()
                api.stop()
                intake_thread.join(timeout=30)
    finally:
        journal.close()
        db.close()
    if failure:
        raise RuntimeError("alert intake failed") from failure[0]


def main() -> None:
    """``python -m services.notifications``: settings from the environment, stops on signals."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        run(Settings(), stop)
    except (WrongModeError, DevelopmentKeyError, AuditSetupError) as error:
        sys.exit(f"notifications: {error}")
