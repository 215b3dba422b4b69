"""Every call this package makes to the journal, in one place, so that it is easy to adapt when
the application layer changes."""

from collections.abc import Sequence
from uuid import UUID

from shared.events import EventEnvelope
from shared.journal.application import Journal


def pathway_of_ins(journal: Journal, value: str) -> UUID | None:
    """The pathway of the person with this INS, if Parcours follows or followed them."""
    return journal.pathway_of_person(value)


def events_of(journal: Journal, pathway_id: UUID) -> Sequence[EventEnvelope]:
    return journal.events_of(pathway_id)
