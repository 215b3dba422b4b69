"""Builds the parts for the embedded or the distributed mode from the settings."""

import logging
import threading
from functools import partial

from projections.caseload.projection import CaseloadProjection
from shared.http import Platform
from shared.pathway.application import Journal, read_log
from shared.projecting import LogProjector, prepare
from shared.settings import Settings
from shared.sqldb import Database, PostgresDatabase, SqliteDatabase

log = logging.getLogger(__name__)

PROJECTIONS = {"caseload": CaseloadProjection}


def views_database(settings: Settings) -> Database:
    if settings.mode == "embedded":
        return SqliteDatabase(settings.views_sqlite_path)
    return PostgresDatabase(settings.database_url)


def build_platform(settings: Settings) -> Platform:
    journal = Journal(env=settings.journal_env())
    views = views_database(settings)
    if settings.mode == "distributed":
        # The projection processes fill these tables; the API only reads them.
        for projection in PROJECTIONS.values():
            prepare(views, projection())
        return Platform(settings=settings, journal=journal, views=views)
    projectors = [
        LogProjector(partial(read_log, journal), views, projection())
        for projection in PROJECTIONS.values()
    ]
    return Platform(settings=settings, journal=journal, views=views,
                    catch_up=lambda: [p.catch_up() for p in projectors])


class BackgroundCatchUp:
    """Embedded mode: keeps the views fresh even when nobody reads them."""

    def __init__(self, platform: Platform, every_s: float = 0.5) -> None:
        self.platform = platform
        self.every_s = every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="catch-up", daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.platform.catch_up()
            except Exception:
                log.exception("embedded projections failed to catch up; retrying")

    def __enter__(self) -> "BackgroundCatchUp":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
