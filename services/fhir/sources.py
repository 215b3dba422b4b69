"""Every call this package makes to the journal, in one place, so that it is easy to adapt when
the application layer changes."""

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from shared import ins
from shared.events import EventEnvelope
from shared.pathway.application import Journal
from shared.pathway.domain import PersonIndex


def pathway_of_ins(journal: Journal, value: str) -> UUID | None:
    """The pathway of the person with this INS, if Parcours follows or followed them."""
    normalised = ins.normalise(value)
    if not ins.is_valid(normalised):
        return None
    try:
        index: PersonIndex = journal.repository.get(PersonIndex.id_for(normalised))
    except AggregateNotFoundError:
        return None
    return index.pathway_id


def events_of(journal: Journal, pathway_id: UUID) -> Sequence[EventEnvelope]:
    return journal.events_of(pathway_id)
