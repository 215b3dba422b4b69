"""The API process's parts: ``Platform``, what the routes are handed; in the embedded mode the
views, the scheduler and the notifier running in process (``run_in_process``), and
``Background``, the thread that keeps them fresh. ``parcours/bootstrap.py``, the composition
root, builds them from the settings; this module builds nothing from them itself."""

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial

from projections.ruptures.projection import RupturesProjection
from services.notifications.outbound import configure
from services.notifications.service import NotificationService, build_embedded
from services.notifications.settings import NotificationSettings
from services.scheduler.scheduler import Scheduler, makes_due_at_once
from shared.api.auth import TokenVerifier
from shared.domain.clock import Clock, system_clock
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.journal.visibility import readable_today, territory_of
from shared.runtime.settings import Settings
from shared.storage.audit import AuditLog
from shared.storage.sqldb import Database
from shared.streaming.projecting import LogProjectors, Projection

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """The parts of one process, built once by ``parcours.bootstrap`` and handed to the routes
    by ``shared.api.http.provide``."""

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


def run_in_process(platform: Platform, projections: dict[str, Projection],
                   notifying: NotificationSettings) -> None:
    """Embedded mode: the projections fed from the store's log, the notifier and the
    scheduler, in this process; sets the platform's ``catch_up``, ``tick`` and
    ``notifications``."""
    journal, views, clock = platform.journal, platform.views, platform.clock
    projectors: list[LogProjectors] = []

    def catch_up(names: Collection[str] | None = None) -> None:
        if projectors[0].catch_up(names).get(notifications.projection.name):
            notifications.hub.notify()  # new deliveries: the open streams show them now

    notifications = configure(build_embedded(
        views, readable_today(journal, lambda: clock().date()), territory_of(journal),
        notifying, clock=clock, catch_up=catch_up))
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

    if platform.settings.alerts_at_once:
        journal.listeners.append(on_recorded)
    platform.catch_up, platform.tick = catch_up, tick
    platform.notifications = notifications


def scheduler_for(projection: Projection, views: Database, journal: Journal,
                  clock: Clock = system_clock) -> Scheduler | None:
    """The rules' owner fires its deadlines into the journal, beside its projection; the
    other projections have no scheduler."""
    if not isinstance(projection, RupturesProjection):
        return None
    return Scheduler(views, journal, projection, clock)


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
