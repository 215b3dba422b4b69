"""A command that takes or frees a place waits for its territory's turn, the territory read
from the cached pathway without a query: when that copy is stale and the pathway has moved to
another territory meanwhile (a new episode referred elsewhere), the command takes the new
territory's turn and decides on its places, never on the old one's."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal

META = Meta(actor=Actor(id="coord-1", role="coordinator"))
ELSEWHERE = "dac-ailleurs-fictif"


def _sqlite(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def test_an_admission_on_a_pathway_that_moved_takes_its_new_territory_turn(
        tmp_path: Path) -> None:
    store = tmp_path / "journal.sqlite"
    here, there = Journal(env=_sqlite(store)), Journal(env=_sqlite(store))
    for territory, manager in ((f.TERRITORY, "gc-1"), (ELSEWHERE, "gc-2")):
        here.register_manager(territory, manager, "Gestionnaire", 5, META)
    first = f.referral(random.Random(7))
    pathway_id = here.refer(first, META)
    here.admit(pathway_id, f.admission(), "gc-1", META)
    here.close_episode(pathway_id, f.closure(), META)  # cached here: closed, first territory

    moved = first.model_copy(update={"territory": ELSEWHERE,
                                     "referred_on": date(2026, 7, 1)})
    there.refer(moved, META)  # a new episode elsewhere; this cache has not seen it

    turns: list[str] = []
    hold = here.territory_locks.hold

    @contextmanager
    def spied(territory: str) -> Iterator[None]:
        turns.append(territory)
        with hold(territory):
            yield

    here.territory_locks.hold = spied  # type: ignore[method-assign]
    admitted = here.admit(pathway_id, f.admission(date(2026, 7, 2)), None, META)
    assert turns == [f.TERRITORY, ELSEWHERE]
    assert admitted.territory == ELSEWHERE and admitted.case_manager_id == "gc-2"
    assert pathway_id in there.territory(ELSEWHERE).places
    assert pathway_id not in there.territory(f.TERRITORY).places
