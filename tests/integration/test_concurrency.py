"""Two commands on the same pathway at the same moment: one wins, the other is told."""

import random
import threading
from uuid import UUID

from shared import fictitious as f
from shared.pathway.application import Journal
from shared.pathway.domain import Pathway
from shared.pathway.errors import ConcurrentChangeError
from tests.integration.conftest import META


def test_one_of_two_concurrent_commands_wins(journal: Journal) -> None:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 10, META)
    pathway_id = journal.refer(f.referral(random.Random(5)), META)
    journal.admit(pathway_id, f.admission(), "gc-1", META)
    both_loaded = threading.Barrier(2, timeout=10)
    outcomes: list[object] = []

    def hospitalise() -> None:
        def command(pathway: Pathway) -> None:
            both_loaded.wait()  # both have read version 3 before either saves
            pathway.hospitalise(f.stay(), META)
        try:
            outcomes.append(journal.execute(pathway_id, command).version)
        except ConcurrentChangeError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=hospitalise) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if isinstance(o, ConcurrentChangeError)]
    assert winners == [4] and len(losers) == 1
    assert losers[0].code == "pathway.concurrent_change"
    assert losers[0].details["current_version"] == 4
    assert [e.type for e in journal.journal(pathway_id)].count("Hospitalised") == 1


def test_concurrent_admissions_never_give_the_last_place_twice(journal: Journal) -> None:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 1, META)
    rng = random.Random(6)
    first, second = (journal.refer(f.referral(rng), META) for _ in range(2))
    start = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def admit(pathway_id: UUID) -> None:
        start.wait()
        try:
            journal.admit(pathway_id, f.admission(), None, META)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=admit, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    managers = sorted(str(journal.pathway(p).case_manager_id) for p in (first, second))
    ranks = [journal.pathway(p).waiting_rank for p in (first, second)]
    assert managers == ["None", "gc-1"]
    assert sorted(r or 0 for r in ranks) == [0, 1]
    territory = journal.territory(f.TERRITORY)
    assert territory.load("gc-1") == 1 and len(territory.queue) == 1

