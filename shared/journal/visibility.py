"""Which persons' files a reader may see on a day, decided on the journal's facts: the one
function every read of named alerts goes through (the REST list, the live streams, their
replay and resumption), so that a member who left the care circle, or a case manager whose
file was transferred, stops seeing the person everywhere at once."""

from collections.abc import Callable, Iterable
from datetime import date
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from shared.domain import access
from shared.domain.access import PathwayFacts
from shared.domain.errors import PathwayNotFoundError
from shared.domain.principal import Principal
from shared.journal.store import JournalStore

Rule = Callable[[Principal, PathwayFacts, date], bool]
Readable = Callable[[Principal, set[str]], set[str]]
"""The pathway ids, among those given, whose file the reader may read today."""


def readable_pathways(store: JournalStore, principal: Principal, pathway_ids: Iterable[str],
                      day: date, rule: Rule = access.reads_file) -> set[str]:
    readable = set()
    for pathway_id in set(pathway_ids):
        try:
            facts = PathwayFacts.of(store.pathway(UUID(pathway_id)))
        except (PathwayNotFoundError, ValueError):
            continue  # an unknown or malformed id names nobody the reader may see
        if rule(principal, facts, day):
            readable.add(pathway_id)
    return readable


def territory_of(store: JournalStore) -> Callable[[str], str | None]:
    """The territory that follows a pathway now, or None for an id the store does not hold:
    what an administrator's reach is checked against."""
    def found(pathway_id: str) -> str | None:
        try:
            return store.territory_of(UUID(pathway_id))
        except (PathwayNotFoundError, ValueError, PersistenceError):
            return None  # no journal here yet: no territory to administer
    return found


def readable_today(store: JournalStore, today: Callable[[], date]) -> Readable:
    """``readable_pathways`` on the day it is asked, for a stream that lasts past midnight."""
    return lambda principal, pathway_ids: readable_pathways(store, principal, pathway_ids,
                                                            today())
