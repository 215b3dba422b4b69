"""On PostgreSQL, API processes take a territory's turn through an advisory lock. When another
process holds it past the bound (its own request waiting on a database in trouble), an
admission here answers 503 within the bound rather than waiting for it without end; its
session stays usable, and the next admission goes through once the turn is free."""

import time

import psycopg
import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.locks import ADVISORY_CLASS
from shared.runtime.resilience import is_outage
from shared.runtime.settings import Settings

META = Meta(actor=Actor(id="coord-1", role="coordinator"))
WAIT_S = 0.5


def test_an_admission_gives_up_on_a_turn_another_process_holds(settings: Settings,
                                                               journal: Journal) -> None:
    journal.territory_locks.wait_s = WAIT_S
    with psycopg.connect(settings.database_url, autocommit=True) as other_process:
        other_process.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                              (ADVISORY_CLASS, f.TERRITORY))
        started = time.monotonic()
        with pytest.raises((psycopg.OperationalError, StoreOperationalError)) as refused:
            journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", 35, META)
        assert time.monotonic() - started < WAIT_S + 2
        assert is_outage(refused.value)  # answered 503 service.unavailable
        other_process.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                              (ADVISORY_CLASS, f.TERRITORY))
    territory = journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", 35, META)
    assert "gc-2" in territory.managers
