"""A request waiting for an aggregate's lock, held by a request that waits on a database in
an outage, answers 503 within the bound instead of queueing behind it (the fault suite saw a
7 s answer where the bound was 6 s: two pathways shared a lock stripe)."""

import time
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.locks import _STRIPES, SerialisedCacheRepository
from shared.runtime.resilience import is_outage
from tests.stuck import held_elsewhere

META = Meta(actor=Actor(id="gc-1", role="case_manager"))


def _same_stripe(pathway_id: UUID) -> UUID:
    while True:
        other = uuid4()
        if other != pathway_id and hash(other) % _STRIPES == hash(pathway_id) % _STRIPES:
            return other


def test_a_request_behind_a_stuck_one_on_the_same_stripe_gives_up_within_the_bound() -> None:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    pathway_id = journal.refer(f.referral(), META)
    repository = journal.repository
    assert isinstance(repository, SerialisedCacheRepository)
    repository.lock_wait_s = 0.3
    # Another aggregate's request holds the stripe, waiting on the database.
    with held_elsewhere(lambda: repository._stripe(_same_stripe(pathway_id))):
        started = time.monotonic()
        with pytest.raises(OperationalError) as refused:
            repository.cached(pathway_id)
        assert time.monotonic() - started < 2
        assert is_outage(refused.value)  # answered 503 service.unavailable
    assert repository.cached(pathway_id).id == pathway_id  # the lock is free again
