"""Builds the ADT intake and its listener from the settings and the platform's parts."""

from collections.abc import Callable
from datetime import UTC, datetime

from services.hl7.intake import AdtIntake
from services.hl7.listener import Listener, tls_context
from services.hl7.store import IntakeStore
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import Database

DEFAULT_PORT = 2575


def build_listener(settings: Settings, journal: Journal, views: Database,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Listener:
    intake = AdtIntake(journal, IntakeStore(views), settings, clock)
    port = DEFAULT_PORT if settings.hl7_port is None else settings.hl7_port
    return Listener(intake, settings.hl7_host, port, settings.hl7_idle_timeout_s,
                    settings.hl7_max_message_bytes,
                    tls_context(settings.hl7_tls_cert, settings.hl7_tls_key))
