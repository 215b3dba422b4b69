"""The README's walkthrough, as written, against `parcours serve` in the distributed mode: the
same practice through the API, on the PostgreSQL event store."""

from pathlib import Path

from shared.runtime.settings import Settings
from tests.conftest import PUBLIC_KEY
from tests.e2e.test_walkthrough import JOURNAL, journal_types, run_walkthrough, serving


def test_the_walkthrough_runs_on_postgresql(settings: Settings, tmp_path: Path) -> None:
    with serving(tmp_path, PARCOURS_MODE="distributed", PARCOURS_AUTH_PUBLIC_KEY=PUBLIC_KEY,
                 PARCOURS_DATABASE_URL=settings.database_url,
                 PARCOURS_TOPIC=settings.topic) as base:
        assert journal_types(run_walkthrough(base)) == JOURNAL
