"""The README's walkthrough and a load of commands through the distributed platform, published
by the real relay: every record on the topic passes the exported schema of its type and
version, with its formats checked."""

from pathlib import Path

from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from tests.conftest import PUBLIC_KEY
from tests.e2e.test_walkthrough import JOURNAL, journal_types, run_walkthrough, serving
from tests.integration.conftest import fill
from tests.integration.contract import assert_topic_keeps_the_contract
from tests.integration.kafka_helpers import read_topic, wait_until
from tests.integration.processes import start, stop


def test_every_published_record_passes_its_exported_schema(
        settings: Settings, journal: Journal, tmp_path: Path) -> None:
    fill(journal, 20)
    relay = start(["relay"], settings, tmp_path / "relay.log")
    try:
        with serving(tmp_path / "var", PARCOURS_MODE="distributed",
                     PARCOURS_AUTH_PUBLIC_KEY=PUBLIC_KEY,
                     PARCOURS_DATABASE_URL=settings.database_url,
                     PARCOURS_TOPIC=settings.topic) as base:
            assert journal_types(run_walkthrough(base)) == JOURNAL
        stored = sum(1 for _, envelope in read_log(journal, 1, 1_000_000)
                     if envelope is not None)
        wait_until(lambda: len(read_topic(settings)) >= stored, 60, "the relay")
    finally:
        assert stop(relay) == 0, (tmp_path / "relay.log").read_text()[-3000:]
    checked = assert_topic_keeps_the_contract(settings)
    assert sum(checked.values()) == stored
    assert set(JOURNAL) <= set(checked), checked

