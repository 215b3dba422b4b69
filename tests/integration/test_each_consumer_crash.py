"""Every other projection, `kill -9`ed right after a commit and restarted, ends with exactly
the view the same code builds in one go from the journal: nothing lost, nothing applied twice."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from parcours.bootstrap import PROJECTIONS
from services.relay.relay import Relay
from shared import fictitious as f
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from shared.streaming.projecting import LogProjector, Replayable, stored_offsets
from tests.integration.conftest import META, drop_database, fill
from tests.integration.kafka_helpers import next_offsets, read_topic, wait_until
from tests.integration.processes import start, stop


def contents(db: PostgresDatabase, tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    with db.transaction() as tx:
        return {t: sorted(tuple(r) for r in tx.execute(f"SELECT * FROM {t}")) for t in tables}


@pytest.mark.parametrize("name", ["contacts", "dysfunctions"])
def test_consumer_killed_after_a_commit_ends_with_the_exact_view(
    name: str, settings: Settings, journal: Journal, tmp_path: Path
) -> None:
    fill(journal, 40, seed=9)
    for pathway_id in list(journal.territory(f.TERRITORY).places)[:20]:
        journal.report_dysfunction(pathway_id, f.dysfunction(), META)
        journal.join_care_circle(pathway_id, f.member(), META)
    db = PostgresDatabase(settings.database_url)
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic)
    while relay.publish_next_batch():
        pass
    ends = next_offsets(read_topic(settings))

    log = tmp_path / f"{name}.log"
    crashed = start(["project", name], settings, log,
                    PARCOURS_FAILPOINTS="projection.after_commit=2",
                    PARCOURS_CONSUMER_MAX_POLL_RECORDS="25")
    assert crashed.wait(timeout=90) == -9, log.read_text()
    final = start(["project", name], settings, log)
    wait_until(lambda: stored_offsets(db, name, settings.topic) == ends, 90, "the whole topic")
    assert stop(final) == 0, log.read_text()

    with _database(settings, "ref") as reference:
        projection = cast(Replayable, PROJECTIONS[name](settings))
        LogProjector(partial(read_log, journal), reference, projection).catch_up()
        tables = list(projection.tables)
        assert contents(db, tables) == contents(reference, tables)
        assert any(contents(db, tables).values())
    db.close()


@contextmanager
def _database(settings: Settings, suffix: str) -> Iterator[PostgresDatabase]:
    """A second fresh database beside the test's, dropped afterwards."""
    name = settings.database_url.rsplit("/", 1)[1] + suffix
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = PostgresDatabase(settings.database_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.close()
        drop_database(settings.database_url, name)
