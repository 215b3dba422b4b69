"""An admission waiting for its territory's turn, held by one that waits on the database in an
outage, answers 503 within the bound instead of queueing behind it; the turn is free again
afterwards. (The turn among API processes, PostgreSQL's advisory lock:
``tests/integration/test_territory_turn_wait.py``.)"""

import time

import pytest
from eventsourcing.persistence import OperationalError

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.runtime.resilience import is_outage
from tests.stuck import held_elsewhere

META = Meta(actor=Actor(id="coord-1", role="coordinator"))


def test_an_admission_behind_a_stuck_one_gives_up_within_the_bound() -> None:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    journal.territory_locks.wait_s = 0.3
    with held_elsewhere(lambda: journal.territory_locks.hold(f.TERRITORY)):
        started = time.monotonic()
        with pytest.raises(OperationalError) as refused:
            journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", 35, META)
        assert time.monotonic() - started < 2
        assert is_outage(refused.value)  # answered 503 service.unavailable
    territory = journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", 35, META)
    assert "gc-2" in territory.managers
