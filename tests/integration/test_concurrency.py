"""Two commands on the same pathway at the same moment: one wins, the other is told."""

import random
import threading
from uuid import UUID

from shared import fictitious as f
from shared.domain.errors import ConcurrentChangeError, PathwayError, RuleBrokenError
from shared.domain.pathway import Pathway
from shared.journal.application import Journal
from tests.integration.conftest import META


def _hospitalise_twice_at_once(journal: Journal, expected: int | None) -> list[object]:
    """Two hospitalisations that both read version 3 before either saves."""
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 10, META)
    pathway_id = journal.refer(f.referral(random.Random(5)), META)
    journal.admit(pathway_id, f.admission(), "gc-1", META)
    both_loaded = threading.Barrier(2, timeout=10)
    outcomes: list[object] = []

    def hospitalise() -> None:
        first_try = True

        def command(pathway: Pathway) -> None:
            nonlocal first_try
            if first_try:
                first_try = False
                both_loaded.wait()
            pathway.hospitalise(f.stay(), META)
        try:
            # The use case's own runner, so that the test can hold both at the barrier.
            outcomes.append(journal._run(pathway_id, command, expected, META).version)
        except PathwayError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=hospitalise) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.type for e in journal.events_of(pathway_id)].count("Hospitalised") == 1
    return outcomes


def test_with_if_match_the_loser_of_two_concurrent_commands_is_told(journal: Journal) -> None:
    outcomes = _hospitalise_twice_at_once(journal, expected=3)
    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if isinstance(o, ConcurrentChangeError)]
    assert winners == [4] and len(losers) == 1
    assert losers[0].code == "pathway.concurrent_change"
    assert losers[0].details["current_version"] == 4


def test_without_if_match_the_loser_is_tried_again_and_its_rules_checked(
        journal: Journal) -> None:
    outcomes = _hospitalise_twice_at_once(journal, expected=None)
    winners = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, RuleBrokenError)]
    assert winners == [4] and len(refused) == 1
    assert refused[0].code == "stay.already_open"  # the second stay, checked on fresh state


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

