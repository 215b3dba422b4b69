"""A cold load on PostgreSQL reads the latest snapshot and the events after it in one query
(``shared.journal.postgres.SnapshotAndEvents``): the aggregate it gives is the fold of all its
events, a snapshot taken by other code is ignored, and a read as of a version before the
snapshot does not use it."""

from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate

from shared import fictitious as f
from shared.domain.pathway import Pathway
from shared.domain.territory import Territory
from shared.journal.application import Journal
from shared.journal.locks import SerialisedCacheRepository
from shared.journal.snapshots import PathwaySnapshot
from tests.integration.conftest import META
from tests.journals import cold, long_pathway


def _fold(journal: Journal, aggregate_id: UUID, lte: int | None = None) -> Any:
    return project_aggregate(None, journal.events.get(aggregate_id, lte=lte))


def _queries(journal: Journal) -> list[str]:
    """Counts the one-query loads and the library's own reads from now on."""
    repository = journal.repository
    assert isinstance(repository, SerialisedCacheRepository)
    assert repository._one_query is not None  # PostgreSQL: the one-query load is used
    seen: list[str] = []
    one_query, events = repository._one_query.select, journal.events.get

    def counted_one_query(*args: Any) -> Any:
        seen.append("one")
        return one_query(*args)

    def counted_events(*args: Any, **kwargs: Any) -> Any:
        seen.append("events")
        return events(*args, **kwargs)

    repository._one_query.select = counted_one_query
    journal.events.get = counted_events  # type: ignore[method-assign]
    return seen


def test_a_cold_load_is_one_query_and_the_fold_of_all_events(journal: Journal) -> None:
    pathway_id = long_pathway(journal, 30, META)
    first = cold(journal, pathway_id)  # more than 50 events: it stores a snapshot
    assert journal.snapshots is not None
    assert [s.originator_version for s in journal.snapshots.get(pathway_id)] == [first.version]
    journal.note(pathway_id, f.note(), META)

    seen = _queries(journal)
    again = cold(journal, pathway_id)
    territory = cold(journal, Territory.id_for(f.TERRITORY))
    assert seen == ["one", "one"]
    assert again.version == first.version + 1
    assert vars(again) == vars(_fold(journal, pathway_id))
    assert vars(territory) == vars(_fold(journal, territory.id))


def test_a_snapshot_taken_by_other_code_is_not_used(journal: Journal) -> None:
    pathway_id = long_pathway(journal, 2, META)
    truth = cold(journal, pathway_id)
    foreign = PathwaySnapshot.take(truth).model_copy(update={"fingerprint": "older-code"})
    foreign.state.territory = "ailleurs"  # what older code would have folded differently
    assert journal.snapshots is not None
    journal.snapshots.put([foreign])
    loaded = cold(journal, pathway_id)
    assert loaded.territory == f.TERRITORY
    assert vars(loaded) == vars(_fold(journal, pathway_id))


def test_a_read_as_of_an_older_version_does_not_use_a_newer_snapshot(
        journal: Journal) -> None:
    pathway_id = long_pathway(journal, 30, META)
    cold(journal, pathway_id)  # the snapshot, at the latest version
    older = journal.pathway(pathway_id, version=7)
    assert isinstance(older, Pathway) and older.version == 7
    assert vars(older) == vars(_fold(journal, pathway_id, lte=7))
