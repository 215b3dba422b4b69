"""The composition root: builds every part of either mode from the settings — the journal,
the views database, the projections, the scheduler, the notifier in the embedded mode; the
relay and each projection's consumer (with the scheduler beside the ruptures one) in the
distributed mode — and hands them out. ``parcours/cli.py`` runs them as processes,
``parcours/web.py`` serves them over HTTP."""

import logging
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import psycopg

from projections.caseload.projection import CaseloadProjection
from projections.contacts.projection import ContactsProjection
from projections.dysfunctions.projection import DysfunctionsProjection
from projections.ruptures.projection import RupturesProjection
from services.notifications.outbound import configure
from services.notifications.service import NotificationService, build_embedded
from services.relay.relay import Relay
from services.scheduler.scheduler import Scheduler, makes_due_at_once
from shared.api.auth import TokenVerifier, verifier_for
from shared.domain.clock import Clock, system_clock
from shared.events.pseudonymise import Analytics
from shared.journal.application import Journal
from shared.journal.locks import SerialisedCacheRepository
from shared.journal.store import read_log
from shared.journal.visibility import readable_today, territory_of
from shared.runtime.resilience import bound_store_wait
from shared.runtime.settings import Settings
from shared.storage.audit import AuditLog
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.sqldb import Database, PostgresDatabase, SqliteDatabase
from shared.streaming import kafka_io
from shared.streaming.projecting import LogProjectors, Projection, prepare

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """The parts of one process, built once here and handed to the routes by
    ``shared.api.http.provide``."""

    settings: Settings
    journal: Journal
    views: Database
    verifier: TokenVerifier
    audit: AuditLog
    clock: Clock = system_clock
    catch_up: Callable[[], object] = lambda: None
    """Embedded mode: brings the views up to the journal."""
    tick: Callable[[], object] = lambda: None
    """Embedded mode: catch up the views and fire the alerts that fell due."""
    wake: threading.Event = field(default_factory=threading.Event)
    """Embedded mode: set to run ``tick`` now rather than at its next interval."""
    notifications: NotificationService | None = None
    """Embedded mode: the notifier running in this process."""


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
    projections = {name: make(settings) for name, make in PROJECTIONS.items()}
    projectors: list[LogProjectors] = []

    def catch_up(names: Collection[str] | None = None) -> None:
        if projectors[0].catch_up(names).get(notifications.projection.name):
            notifications.hub.notify()  # new deliveries: the open streams show them now

    notifications = configure(build_embedded(
        views, readable_today(journal, lambda: clock().date()), territory_of(journal),
        clock=clock, catch_up=catch_up))
    projectors.append(LogProjectors(partial(read_log, journal), views,
                                    [*projections.values(), notifications.projection]))
    ruptures = projections["ruptures"]
    scheduler = scheduler_for(ruptures, views, journal, clock)
    assert scheduler is not None

    def tick() -> None:
        # The alerts first: what makes them due, then the deliveries of those raised; the
        # other views after (a woken tick must not wait for a second of their events).
        catch_up([ruptures.name])
        if scheduler.fire_due():
            catch_up([ruptures.name, notifications.projection.name])
        catch_up()

    def on_recorded(events: Sequence[object]) -> None:
        if makes_due_at_once(events):
            platform.wake.set()  # R1/R2 fire now, not at the next tick

    if settings.alerts_at_once:
        journal.listeners.append(on_recorded)
    platform.catch_up, platform.tick = catch_up, tick
    platform.notifications = notifications
    return platform


def scheduler_for(projection: Projection, views: Database, journal: Journal,
                  clock: Clock = system_clock) -> Scheduler | None:
    """The rules' owner fires its deadlines into the journal, beside its projection; the
    other projections have no scheduler."""
    if not isinstance(projection, RupturesProjection):
        return None
    return Scheduler(views, journal, projection, clock)


# -- the distributed mode's processes -----------------------------------------------------------


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


class Background:
    """Embedded mode: keeps the views fresh and fires due alerts, even when nobody reads."""

    def __init__(self, platform: Platform, every_s: float) -> None:
        self.platform = platform
        self.every_s = every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="background", daemon=True)

    def _loop(self) -> None:
        wake = self.platform.wake
        while not self.stop.is_set():
            wake.wait(self.every_s)  # the interval is the fallback; a due alert wakes it
            wake.clear()  # before the work: a wake during it is not lost
            if self.stop.is_set():
                return
            try:
                self.platform.tick()
            except Exception:
                log.exception("embedded projections or scheduler failed; retrying")

    def __enter__(self) -> "Background":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.platform.wake.set()
        self.thread.join(timeout=5)
