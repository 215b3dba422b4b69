"""Every process creates its tables at start: started together on an empty database, none may
fail on the others' concurrent CREATE TABLE (issue 9, item 5)."""

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import psycopg

from parcours.bootstrap import PROJECTIONS, build_journal
from services.notifications.consumer import NotificationsProjection
from shared.domain.clock import system_clock
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.migrations import MIGRATIONS, migrate
from shared.storage.sqldb import PostgresDatabase
from shared.streaming.projecting import Projection, prepare
from tests.integration.conftest import drop_database


def _prepare(db: PostgresDatabase, projection: Projection) -> None:
    prepare(db, projection)


def _notifier(db: PostgresDatabase) -> None:
    migrate(db)
    prepare(db, NotificationsProjection(clock=system_clock))


@contextmanager
def empty_database(settings: Settings) -> Iterator[str]:
    """A database of its own, dropped afterwards; yields its URL."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        drop_database(settings.database_url, name)


def at_once(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Runs every job in its own thread, released together; returns what they raised."""
    gate = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        gate.wait()
        try:
            job()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def start_everything_at_once(settings: Settings) -> list[BaseException]:
    """What the relay, the API (its read audit), the four projections and the notifier do at
    start, each with its own connection, released together."""
    with empty_database(settings) as url:
        databases = [PostgresDatabase(url, max_size=1) for _ in range(len(PROJECTIONS) + 3)]
        work: list[Callable[[PostgresDatabase], object]] = [migrate, migrate, _notifier]
        work += [partial(_prepare, projection=PROJECTIONS[name](settings))
                 for name in PROJECTIONS]
        try:
            return at_once([partial(job, db)
                            for job, db in zip(work, databases, strict=True)])
        finally:
            for db in databases:
                db.close()


def test_processes_started_together_on_an_empty_database_all_start(
        base_settings: Settings) -> None:
    for attempt in range(10):
        failures = start_everything_at_once(base_settings)
        assert not failures, f"attempt {attempt + 1}: {failures!r}"


def test_migrations_run_once_and_in_order(settings: Settings) -> None:
    db = PostgresDatabase(settings.database_url, max_size=1)
    try:
        assert migrate(db) == [migration.number for migration in MIGRATIONS]
        assert migrate(db) == []
        with db.transaction() as tx:
            assert tx.one("SELECT count(*) FROM relay_positions") == (0,)
            assert tx.execute("SELECT name, value FROM notification_counters ORDER BY name") \
                == [("delivery", 0), ("log", 0)]
            # The read audit is the DBA's on PostgreSQL: migration 3 is recorded, not run.
            assert tx.one("SELECT to_regclass('public.read_audit')") == (None,)
    finally:
        db.close()


def start_journals_at_once(base_settings: Settings, count: int = 4) -> list[BaseException]:
    with empty_database(base_settings) as url:
        settings = base_settings.model_copy(update={"database_url": url})
        journals: list[Journal] = []
        try:
            return at_once([lambda: journals.append(build_journal(settings))] * count)
        finally:
            for journal in journals:
                journal.close()


def test_journals_started_together_on_an_empty_database_all_start(
        base_settings: Settings) -> None:
    """The API, the relay and the ruptures process each start a journal, whose library creates
    the store's tables, types and notify function: together, they raced there."""
    for attempt in range(5):
        failures = start_journals_at_once(base_settings)
        assert not failures, f"attempt {attempt + 1}: {failures!r}"
