"""A case manager registered without a capacity gets the practice's default, which the journal
receives in its policy from the settings (``PARCOURS_DEFAULT_CAPACITY``, 35)."""

from shared import fictitious as f
from shared.domain.commands import Meta, Policy
from shared.events import Actor
from shared.journal.application import Journal
from shared.runtime.settings import Settings

META = Meta(actor=Actor(id="coord-1", role="coordinator"))
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def test_without_a_capacity_the_policy_default_applies_and_a_given_one_wins() -> None:
    journal = Journal(env=IN_MEMORY, policy=Policy(default_capacity=12))
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", None, META)
    places = journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", 20, META)
    assert places.managers == {"gc-1": ("Gestionnaire Un", 12),
                               "gc-2": ("Gestionnaire Deux", 20)}
    again = journal.register_manager(f.TERRITORY, "gc-2", "Gestionnaire Deux", None, META)
    assert again.managers["gc-2"] == ("Gestionnaire Deux", 12)


def test_the_settings_give_the_default_to_the_policy() -> None:
    assert Policy().default_capacity == Settings().policy().default_capacity == 35
    assert Settings(default_capacity=28).policy().default_capacity == 28
