"""Integration tests run on the real PostgreSQL and Kafka that `make test` starts.

When either cannot be reached, every test here fails with the reason: never a skip."""

import random
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from kafka import KafkaAdminClient

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.streaming import kafka_io
from tests.conftest import PUBLIC_KEY
from tests.integration.notification_helpers import SmtpSink, WebhookReceiver

META = Meta(actor=Actor(id="gc-1", role="case_manager"))
EVENTS_PER_PATHWAY = 10
MEASURED: list[str] = []
"""What the fault tests measured (outage times, counts), shown at the end of every run, CI's
included, where a test's own output is not."""


def measured(line: str) -> None:
    MEASURED.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MEASURED:
        terminalreporter.section("what the fault and load tests measured")
        for line in MEASURED:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # data_dir: where the read audit's checkpoints go, one folder per database (below).
    settings = Settings(mode="distributed", auth_public_key=PUBLIC_KEY,
                        data_dir=tmp_path_factory.mktemp("var"))
    problems = []
    try:
        psycopg.connect(settings.database_url, connect_timeout=5).close()
    except psycopg.Error as error:
        problems.append(
            f"PostgreSQL at {settings.database_url} cannot be reached: {error}".strip()
            + "\n  → start it with `infra/postgres.sh start`, or run `make test`."
        )
    try:
        KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap,
                         request_timeout_ms=5000).close()
    except Exception as error:
        problems.append(
            f"Kafka at {settings.kafka_bootstrap} cannot be reached: {error!r}"
            "\n  → start it with `infra/kafka.sh start`, or run `make test`."
        )
    if problems:
        pytest.fail("Integration services missing:\n" + "\n".join(problems), pytrace=False)
    return settings


@pytest.fixture
def settings(base_settings: Settings,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A fresh database and a fresh topic for each test, its relay's positions on a topic of
    their own (a transaction a killed relay left open there holds back no other test), and a
    data folder of its own (the read audit's checkpoints belong to one database)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = base_settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    settings = base_settings.model_copy(
        update={"database_url": database_url, "topic": f"parcours.test-{name}",
                "relay_positions_topic": f"parcours.test-{name}.relay-positions",
                "data_dir": tmp_path_factory.mktemp(name)}
    )
    kafka_io.ensure_topic(settings)
    yield settings
    drop_database(base_settings.database_url, name)


@pytest.fixture
def journal(settings: Settings) -> Iterator[Journal]:
    journal = Journal(env=settings.journal_env())
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    yield journal
    journal.close()


def fill(journal: Journal, pathways: int, seed: int = 0) -> dict[str, int]:
    """Appends EVENTS_PER_PATHWAY events to each of ``pathways`` new pathways."""
    rng = random.Random(seed)
    followed = journal.territory(f.TERRITORY).load("gc-1")
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", followed + pathways, META)
    versions = {}
    for _ in range(pathways):
        pathway_id = journal.refer(f.referral(rng), META)
        journal.admit(pathway_id, f.admission(), "gc-1", META)
        for _ in range(3):
            journal.hospitalise(pathway_id, f.stay(), META)
            journal.discharge(pathway_id, f.discharge(), META)
        pathway = journal.evaluate(pathway_id, f.evaluation(), META)
        versions[str(pathway_id)] = pathway.version
    assert set(versions.values()) == {EVENTS_PER_PATHWAY}
    return versions


@pytest.fixture
def alerts(settings: Settings) -> Settings:
    """The test's settings with its own alerts topic."""
    alerts = settings.model_copy(update={"alerts_topic": f"{settings.topic}.alerts"})
    kafka_io.ensure_topic(alerts, alerts.alerts_topic)
    return alerts


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.close()


def drop_database(admin_url: str, name: str) -> None:
    """Drops a test's database. The server's own autovacuum worker may still be on it, which
    the test role may not terminate (InsufficientPrivilege): wait until it has left."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # a poll: the worker ends on its own within moments
