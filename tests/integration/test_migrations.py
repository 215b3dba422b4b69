"""Every process creates its tables at start: started together on an empty database, none may
fail on the others' concurrent CREATE TABLE (issue 9, item 5)."""

import threading
import uuid
from collections.abc import Callable
from functools import partial

import psycopg

from parcours.platform import PROJECTIONS, build_journal
from services.notifications.consumer import NotificationsProjection
from shared.clock import system_clock
from shared.migrations import MIGRATIONS, migrate
from shared.projecting import Projection, prepare
from shared.settings import Settings
from shared.sqldb import PostgresDatabase


def _prepare(db: PostgresDatabase, projection: Projection) -> None:
    prepare(db, projection)


def _notifier(db: PostgresDatabase) -> None:
    migrate(db)
    prepare(db, NotificationsProjection(clock=system_clock))


def start_everything_at_once(settings: Settings) -> list[BaseException]:
    """What the relay, the API (its read audit), the four projections and the notifier do at
    start, each with its own connection, released together."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    databases = [PostgresDatabase(url, max_size=1) for _ in range(len(PROJECTIONS) + 3)]
    gate = threading.Barrier(len(databases))
    failures: list[BaseException] = []
    work: list[Callable[[PostgresDatabase], object]] = [migrate, migrate, _notifier]
    projections = [PROJECTIONS[p](settings) for p in PROJECTIONS]
    work += [partial(_prepare, projection=projection) for projection in projections]

    def run(job: Callable[[PostgresDatabase], object], db: PostgresDatabase) -> None:
        gate.wait()
        try:
            job(db)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(job, db)) for job, db in zip(work, databases,
                                                                                  strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for db in databases:
        db.close()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return failures


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
    name = f"j_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base_settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    settings = base_settings.model_copy(update={"database_url": url})
    gate = threading.Barrier(count)
    failures: list[BaseException] = []
    journals = []

    def start() -> None:
        gate.wait()
        try:
            journals.append(build_journal(settings))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for journal in journals:
        journal.close()
    with psycopg.connect(base_settings.database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return failures


def test_journals_started_together_on_an_empty_database_all_start(
        base_settings: Settings) -> None:
    """The API, the relay and the ruptures process each start a journal, whose library creates
    the store's tables, types and notify function: together, they raced there."""
    for attempt in range(5):
        failures = start_journals_at_once(base_settings)
        assert not failures, f"attempt {attempt + 1}: {failures!r}"
