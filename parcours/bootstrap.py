"""The composition root: every process of Parcours is built here, from the settings, each
part handed its collaborators:

- the parts every process shares: ``build_journal``, ``views_database``, ``PROJECTIONS``;
- the API process of either mode: ``create_app`` (its lifespan runs ``build_platform`` and, in
  the embedded mode, the notifier, the views and scheduler's thread and the ADT listener);
- the distributed mode's processes: ``build_relay``, ``build_projection_process`` (the
  scheduler beside the ruptures projection), ``run_notifier``, ``build_adt_process``;
- the ADT listener over a given journal: ``build_listener``.

``parcours/cli.py`` runs these as processes (``python -m services.notifications`` goes
through it too). Used from here, and importing nothing of it:
``platform.py`` (the API process's parts, the embedded mode's loop), ``web.py`` (the HTTP
applications' routes and headers), ``notifier.py`` (the distributed notifier, built). Services
are handed their collaborators and never build them from the settings."""

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import psycopg
from fastapi import FastAPI

# The notifier's process is built in notifier.py; it is reached from here, like every process.
from parcours.notifier import WrongModeError as WrongModeError
from parcours.notifier import alerts_projector as alerts_projector
from parcours.notifier import run_notifier as run_notifier
from parcours.platform import Background, Platform, run_in_process, scheduler_for
from parcours.web import http_app
from projections.caseload.projection import CaseloadProjection
from projections.contacts.projection import ContactsProjection
from projections.dysfunctions.projection import DysfunctionsProjection
from projections.ruptures.projection import RupturesProjection
from services.hl7.intake import AdtIntake
from services.hl7.listener import Limits, Listener, tls_context
from services.hl7.listener import running as hl7_running
from services.hl7.senders import check_exposure
from services.hl7.store import IntakeStore
from services.notifications.settings import NotificationSettings
from services.relay.relay import Relay
from services.scheduler.scheduler import Scheduler
from shared.api.auth import verifier_for
from shared.api.http import provide
from shared.domain.clock import Clock, system_clock
from shared.events.pseudonymise import Analytics
from shared.journal.application import Journal
from shared.journal.locks import SerialisedCacheRepository
from shared.runtime.resilience import bound_store_wait
from shared.runtime.settings import Settings
from shared.storage.audit import AuditLog
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.sqldb import Database, PostgresDatabase, SqliteDatabase
from shared.streaming import kafka_io
from shared.streaming.projecting import Projection, prepare

log = logging.getLogger(__name__)

ProjectionFactory = Callable[[Settings], Projection]

PROJECTIONS: dict[str, ProjectionFactory] = {
    "caseload": lambda settings: CaseloadProjection(settings.policy()),
    "ruptures": lambda settings: RupturesProjection(settings.delays(), settings.policy()),
    "contacts": lambda settings: ContactsProjection(),
    "dysfunctions": lambda settings: DysfunctionsProjection(),
}


def views_database(settings: Settings) -> Database:
    if settings.mode == "embedded":
        return SqliteDatabase(settings.views_sqlite_path)
    return PostgresDatabase(settings.database_url, wait_s=settings.db_wait_s)


def build_journal(settings: Settings) -> Journal:
    """The journal with the practice's delays and the territory's time zone."""
    with schema_lock(settings):
        journal = Journal(env=settings.journal_env(), policy=settings.policy(),
                          delays=settings.delays(), zone=settings.zone())
    # 503 within the bound in an outage, for a request on the store and for one waiting
    # behind it for the same aggregate's lock or the same territory's turn.
    bound_store_wait(journal.recorder, settings.db_wait_s)
    if isinstance(journal.repository, SerialisedCacheRepository):
        journal.repository.lock_wait_s = settings.db_wait_s
    journal.territory_locks.wait_s = settings.db_wait_s
    return journal


JOURNAL_LOCK_KEY = 0x5041_524A  # "PARJ": a journal creating the store's tables


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """The library creates the store's tables, types and notify function when a journal starts;
    processes started together on one database raced there ("tuple concurrently updated"). On
    PostgreSQL they take an advisory lock in turn: one of their own, as the journal's recorder
    takes the schema lock itself (``shared.storage.migrations``) from another connection."""
    if settings.mode != "distributed":
        yield
        return
    with psycopg.connect(settings.database_url, autocommit=True,
                         connect_timeout=max(1, int(settings.db_wait_s))) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (JOURNAL_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (JOURNAL_LOCK_KEY,))


# -- the API process, either mode ---------------------------------------------------------------


def build_platform(settings: Settings, clock: Clock = system_clock) -> Platform:
    anchor = AuditAnchor.from_settings(settings)  # first: a missing key refuses at once
    journal = build_journal(settings)
    views = views_database(settings)
    platform = Platform(settings=settings, journal=journal, views=views, clock=clock,
                        verifier=verifier_for(settings), audit=AuditLog(views, anchor))
    if settings.mode == "distributed":
        # The projection processes fill these tables and fire the alerts; the API only reads.
        for make in PROJECTIONS.values():
            prepare(views, make(settings))
        return platform
    run_in_process(platform, {name: make(settings) for name, make in PROJECTIONS.items()},
                   NotificationSettings())
    return platform


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The platform's HTTP application; the platform is built when it starts."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = build_platform(settings, clock)
        provide(app, settings=settings, journal=platform.journal, views=platform.views,
                verifier=platform.verifier, audit=platform.audit, clock=platform.clock,
                catch_up=platform.catch_up)
        app.state.platform = platform  # for tests and tools that drive the embedded mode
        notifications = platform.notifications
        with ExitStack() as running:
            if notifications is not None:
                app.state.notifications = notifications
                running.enter_context(notifications.dispatcher_thread())
                running.callback(notifications.hub.close)  # ends the open alert streams
            running.enter_context(Background(platform, settings.scheduler_interval_s))
            if settings.mode == "embedded" and settings.hl7_port is not None:
                # The hospitals' ADT feed, in the same process as the embedded journal.
                listener = build_listener(settings, platform.journal, platform.views, clock)
                app.state.hl7_port = running.enter_context(hl7_running(listener))
            yield
        platform.views.close()
        platform.journal.close()

    return http_app(settings, lifespan)


# -- the hospitals' ADT feed ------------------------------------------------------------------

HL7_DEFAULT_PORT = 2575


def build_listener(settings: Settings, journal: Journal, views: Database,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Listener:
    check_exposure(settings)
    intake = AdtIntake(journal, IntakeStore(views), settings, clock)
    port = HL7_DEFAULT_PORT if settings.hl7_port is None else settings.hl7_port
    limits = Limits(settings.hl7_idle_timeout_s, settings.hl7_frame_timeout_s,
                    settings.hl7_max_message_bytes, settings.hl7_max_connections)
    return Listener(intake, settings.hl7_host, port, limits,
                    tls_context(settings.hl7_tls_cert, settings.hl7_tls_key,
                                settings.hl7_tls_client_ca))


@dataclass
class AdtProcess:
    """``parcours hl7 listen``: the listener and the stores it writes to."""

    listener: Listener
    journal: Journal
    views: Database

    def close(self) -> None:
        self.views.close()
        self.journal.close()


def build_adt_process(settings: Settings) -> AdtProcess:
    # The same journal as the API's: the ADT feed's commands follow the same practice delays,
    # time zone and outage bound.
    journal = build_journal(settings)
    views = views_database(settings)
    return AdtProcess(build_listener(settings, journal, views), journal, views)


# -- the distributed mode's relay and projections ---------------------------------------------


def build_relay(settings: Settings) -> Relay:
    """The store's log to Kafka, exactly once (``services/relay``). Connects to PostgreSQL and
    Kafka: the caller retries while they are away."""
    kafka_io.ensure_topic(settings)
    kafka_io.ensure_topic(settings, settings.alerts_topic)
    analytics = None
    if settings.pseudonym_key:
        kafka_io.ensure_topic(settings, settings.analytics_topic)
        analytics = (settings.analytics_topic, Analytics(
            settings.pseudonym_key.get_secret_value().encode(), settings.analytics_k,
            settings.analytics_period, settings.zone()))
    else:
        log.warning("relay: no PARCOURS_PSEUDONYM_KEY, the analytics stream is not published")
    db = PostgresDatabase(settings.database_url, max_size=2, wait_s=settings.db_wait_s)
    return Relay(build_journal(settings), db, partial(kafka_io.producer, settings),
                 settings.topic, settings.alerts_topic, settings.relay_batch_size, analytics,
                 positions_topic=settings.relay_positions_topic, read_ahead=True)


@dataclass
class ProjectionProcess:
    """One projection as a member of its Kafka consumer group, with the scheduler that fires
    its deadlines when it is the ruptures projection."""

    projector: kafka_io.KafkaProjector
    scheduler: Scheduler | None
    due_now: threading.Event | None
    """Set by the ruptures projection when an applied event makes an alert due at once."""


def build_projection_process(settings: Settings, name: str) -> ProjectionProcess:
    """Connects to PostgreSQL and Kafka: the caller retries while they are away."""
    kafka_io.ensure_topic(settings)
    db = PostgresDatabase(settings.database_url, max_size=3, wait_s=settings.db_wait_s)
    projection = PROJECTIONS[name](settings)
    projector = kafka_io.KafkaProjector(settings, db, projection)
    due_now = projection.due_now if isinstance(projection, RupturesProjection) else None
    return ProjectionProcess(projector, scheduler_for(projection, db, build_journal(settings)),
                             due_now)
