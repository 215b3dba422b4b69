"""Builds the parts for the embedded or the distributed mode from the settings."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from projections.caseload.projection import CaseloadProjection
from projections.contacts.projection import ContactsProjection
from projections.dysfunctions.projection import DysfunctionsProjection
from projections.ruptures.projection import RupturesProjection
from projections.ruptures.scheduler import Scheduler
from services.notifications.service import NotificationService, build_embedded
from shared.audit import AuditLog
from shared.auth import TokenVerifier, verifier_for
from shared.clock import Clock, system_clock
from shared.pathway.application import Journal, read_log
from shared.projecting import LogProjector, Projection, prepare
from shared.resilience import bound_store_wait
from shared.settings import Settings
from shared.sqldb import Database, PostgresDatabase, SqliteDatabase

log = logging.getLogger(__name__)

@dataclass
class Platform:
    """The parts of one process, built once here and handed to the routes by
    ``shared.http.provide``."""

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
    journal = Journal(env=settings.journal_env(), policy=settings.policy(),
                      delays=settings.delays(), zone=settings.zone())
    bound_store_wait(journal.recorder, settings.db_wait_s)  # 503 within the bound in an outage
    return journal


def build_platform(settings: Settings, clock: Clock = system_clock) -> Platform:
    journal = build_journal(settings)
    views = views_database(settings)
    platform = Platform(settings=settings, journal=journal, views=views, clock=clock,
                        verifier=verifier_for(settings), audit=AuditLog(views))
    if settings.mode == "distributed":
        # The projection processes fill these tables and fire the alerts; the API only reads.
        for make in PROJECTIONS.values():
            prepare(views, make(settings))
        return platform
    projections = {name: make(settings) for name, make in PROJECTIONS.items()}
    projectors: list[LogProjector] = []

    def catch_up() -> None:
        for projector in projectors:
            projector.catch_up()

    notifications = build_embedded(views, clock=clock, catch_up=catch_up)
    projectors += [LogProjector(partial(read_log, journal), views, projection)
                   for projection in [*projections.values(), notifications.projection]]
    ruptures = projections["ruptures"]
    assert isinstance(ruptures, RupturesProjection)
    scheduler = Scheduler(views, journal, ruptures, clock)

    def tick() -> None:
        catch_up()
        if scheduler.fire_due():
            catch_up()

    platform.catch_up, platform.tick = catch_up, tick
    platform.notifications = notifications
    return platform


class Background:
    """Embedded mode: keeps the views fresh and fires due alerts, even when nobody reads."""

    def __init__(self, platform: Platform, every_s: float) -> None:
        self.platform = platform
        self.every_s = every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="background", daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.platform.tick()
            except Exception:
                log.exception("embedded projections or scheduler failed; retrying")

    def __enter__(self) -> "Background":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
