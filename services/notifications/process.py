"""The notifications process of the distributed mode, running: the Kafka intake, the
dispatcher and the HTTP API until ``stop`` is set. Its parts are built by
``parcours/bootstrap.py`` (``run_notifier``); everything resumes from the database, so a
failing intake stops the process for its supervisor to restart it."""

import logging
import threading

from services.notifications.service import NotificationService
from shared.api.server import ApiServer
from shared.runtime.resilience import Backoff, retrying
from shared.streaming import kafka_io

log = logging.getLogger(__name__)


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


def serve(service: NotificationService, projector: kafka_io.KafkaProjector, api: ApiServer,
          stop: threading.Event, topic: str) -> None:
    """Runs the three parts until ``stop`` is set; raises when the intake failed."""
    failure: list[BaseException] = []

    def intake() -> None:
        try:
            consume(projector, service, stop)
        except BaseException as error:
            log.exception("alert intake failed: stopping the process")
            failure.append(error)
            stop.set()

    intake_thread = threading.Thread(target=intake, name="notifications-intake")
    with service.dispatcher_thread():
        intake_thread.start()
        try:
            api.start()
            config = api.server.config
            log.info("notifications: %s → deliveries; API on http://%s:%d",
                     topic, config.host, config.port)
            stop.wait()
        finally:
            stop.set()  # also when the API could not start: the intake must end too
            service.hub.close()
            api.stop()
            intake_thread.join(timeout=30)
    if failure:
        raise RuntimeError("alert intake failed") from failure[0]
