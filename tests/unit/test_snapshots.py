"""Snapshots of pathways and territories: a snapshot gives back exactly the folded state, a
long load stores one, a snapshot taken by other code is ignored, and commands that start from
a stale cached aggregate still never record on top of a change they did not see."""

import random
from copy import deepcopy
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import project_aggregate

from parcours.demo import load_demo
from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.errors import ConcurrentChangeError
from shared.domain.pathway import Pathway
from shared.domain.ruptures import coordination
from shared.domain.state import SHARED_BY_COPIES
from shared.domain.territory import Territory
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.locks import SerialisedCacheRepository
from shared.journal.snapshots import AggregateSnapshot, PathwaySnapshot
from tests.journals import cold, long_pathway

META = Meta(actor=Actor(id="coord-1", role="coordinator"))


def _sqlite(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def _long_pathway(journal: Journal, stays: int) -> UUID:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    return long_pathway(journal, stays, META)


def _cold(journal: Journal, pathway_id: UUID) -> Pathway:
    loaded: Pathway = cold(journal, pathway_id)
    return loaded


COPIED = {"episodes", "open_stay", "discharged_stay", "care_circle", "follow_up", "state",
          "alerts", "fired_keys", "vigilance", "repeat_referrals", "_pending_events"}


@pytest.fixture(scope="module")
def demo() -> tuple[Journal, set[UUID]]:
    journal = Journal()  # the library's in-memory store
    load_demo(journal)
    return journal, {UUID(str(n.originator_id))
                     for n in journal.recorder.select_notifications(start=1, limit=10**6)}


def test_every_demo_aggregate_comes_back_the_same_from_its_snapshot(
        demo: tuple[Journal, set[UUID]]) -> None:
    journal, ids = demo
    checked = 0
    for aggregate_id in ids:
        folded: Any = project_aggregate(None, journal.events.get(aggregate_id))
        if not isinstance(folded, Pathway | Territory):
            continue
        stored = journal.mapper.to_stored_event(AggregateSnapshot.take(folded))
        snapshot: Any = journal.mapper.to_domain_event(stored)
        back = snapshot.mutate(None)
        assert type(back) is type(folded)
        assert vars(back) == vars(folded)
        checked += 1
    assert checked > 100


def test_a_pathway_copy_shares_nothing_the_fold_changes(
        demo: tuple[Journal, set[UUID]]) -> None:
    """Each demo pathway folded part way, copied, and the rest of its events applied to the
    copy: the original stays what its part of the events make it."""
    journal, ids = demo
    checked = 0
    for aggregate_id in ids:
        events = list(journal.events.get(aggregate_id))
        if not isinstance(project_aggregate(None, events[:1]), Pathway):
            continue
        assert set(vars(project_aggregate(None, events))) == SHARED_BY_COPIES | COPIED
        for cut in range(1, len(events)):
            original: Any = project_aggregate(None, events[:cut])
            twin = deepcopy(original)
            assert vars(twin) == vars(original)
            project_aggregate(twin, events[cut:])
            assert vars(original) == vars(project_aggregate(None, events[:cut]))
        checked += 1
    assert checked > 100


def test_a_long_load_stores_a_snapshot_that_the_next_cold_load_uses(tmp_path: Path) -> None:
    journal = Journal(env=_sqlite(tmp_path / "journal.sqlite"))
    pathway_id = _long_pathway(journal, stays=40)
    assert journal.snapshots is not None
    assert not list(journal.snapshots.get(pathway_id))  # commands take none themselves

    first = _cold(journal, pathway_id)
    snapshots = list(journal.snapshots.get(pathway_id))
    assert [s.originator_version for s in snapshots] == [first.version]

    journal.note(pathway_id, f.note(), META)
    read: list[int | None] = []
    get = journal.events.get

    def counting(originator_id: UUID, **kwargs: Any) -> Any:
        read.append(kwargs.get("gt"))
        return get(originator_id, **kwargs)

    journal.events.get = counting  # type: ignore[method-assign]
    again = _cold(journal, pathway_id)
    assert read == [first.version]  # only the events after the snapshot
    assert again.version == first.version + 1
    journal.events.get = get  # type: ignore[method-assign]
    assert vars(again) == vars(project_aggregate(None, journal.events.get(pathway_id)))


def test_a_snapshot_taken_by_other_code_is_not_used(tmp_path: Path) -> None:
    journal = Journal(env=_sqlite(tmp_path / "journal.sqlite"))
    pathway_id = _long_pathway(journal, stays=2)
    truth = _cold(journal, pathway_id)
    foreign = PathwaySnapshot.take(truth).model_copy(update={"fingerprint": "older-code"})
    foreign.state.territory = "ailleurs"  # what older code would have folded differently
    assert journal.snapshots is not None
    journal.snapshots.put([foreign])
    assert _cold(journal, pathway_id).territory == f.TERRITORY


@pytest.mark.parametrize("with_if_match", [False, True])
def test_a_command_on_a_stale_cache_sees_the_other_process_change(
        tmp_path: Path, with_if_match: bool) -> None:
    store = tmp_path / "journal.sqlite"
    here, there = Journal(env=_sqlite(store)), Journal(env=_sqlite(store))
    pathway_id = _long_pathway(here, stays=1)
    assert isinstance(here.repository, SerialisedCacheRepository)
    cached = here.pathway(pathway_id).version
    after_there = there.note(pathway_id, f.note(), META).version
    assert after_there == cached + 1  # the other process moved on; this cache did not

    expected = after_there if with_if_match else None
    done = here.note(pathway_id, f.note(), META, expected_version=expected)
    assert done.version == after_there + 1
    with pytest.raises(ConcurrentChangeError):  # a version this client had not seen
        here.note(pathway_id, f.note(), META, expected_version=cached)


def test_a_rule_checked_on_a_stale_cache_is_checked_again_on_the_store(tmp_path: Path) -> None:
    """Another process recorded stays this one's cache has not seen: a discharge is not
    refused for want of a stay, and a stay's alert is not dropped as cleared."""
    store = tmp_path / "journal.sqlite"
    here, there = Journal(env=_sqlite(store)), Journal(env=_sqlite(store))
    discharged, alerted = _long_pathway(here, stays=0), _admitted(here)
    for pathway_id in (discharged, alerted):
        here.pathway(pathway_id)  # cached here, without a stay
        there.hospitalise(pathway_id, f.stay(), META)

    assert here.discharge(discharged, f.discharge(), META).open_stay is None
    stay_event = there.pathway(alerted).state.stay_event_id
    assert here.raise_alert(alerted, ev.AlertRaised(  # R4: cleared once a note follows
        alert_id=uuid4(), dedup_key=f"R4:{stay_event}", rule="R4", severity="warning",
        title="Hospitalisation sans note", message="Aucune note depuis l'hospitalisation.",
        due_at=f.stay().admitted_at, recipients=[coordination(f.TERRITORY)]))


def _admitted(journal: Journal) -> UUID:
    pathway_id = journal.refer(f.referral(random.Random(2)), META)
    journal.admit(pathway_id, f.admission(), "gc-1", META)
    return pathway_id
