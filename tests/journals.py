"""Journal set-ups the unit and integration suites share."""

from typing import Any
from uuid import UUID

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.journal.application import Journal


def long_pathway(journal: Journal, stays: int, meta: Meta) -> UUID:
    """A person referred, admitted to gc-1, then in and out of hospital ``stays`` times."""
    pathway_id = journal.refer(f.referral(), meta)
    journal.admit(pathway_id, f.admission(), "gc-1", meta)
    for _ in range(stays):
        journal.hospitalise(pathway_id, f.stay(), meta)
        journal.discharge(pathway_id, f.discharge(), meta)
    return pathway_id


def cold(journal: Journal, aggregate_id: UUID) -> Any:
    """The aggregate loaded from the store, not from the journal's cache."""
    assert journal.repository.cache is not None
    journal.repository.cache.get(aggregate_id, evict=True)
    return journal.repository.get(aggregate_id)
