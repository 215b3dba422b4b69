"""The journal application: load the pathway, call the command, save; translate the
infrastructure's errors into domain ones."""

from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper

from shared import events as ev
from shared.events import EventEnvelope
from shared.pathway.domain import Meta, Pathway, PathwayEvent, PersonIndex
from shared.pathway.errors import ConcurrentChangeError, PathwayNotFoundError
from shared.pathway.persistence import JsonTranscoder, PydanticMapper, to_envelope


class Journal(Application[UUID]):
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(transcoder=JsonTranscoder())

    # -- commands ---------------------------------------------------------------------------

    def refer(self, referral: ev.Referred, meta: Meta) -> UUID:
        """Opens a stream for a new person, or the next episode of a known one."""
        index_id = PersonIndex.id_for(referral.person.ins)
        try:
            index: PersonIndex = self.repository.get(index_id)
        except AggregateNotFoundError:
            pathway = Pathway.open(referral, meta)
            self._save(pathway, PersonIndex.create(referral.person.ins, pathway.id))
            return pathway.id
        return self.execute(index.pathway_id, lambda p: p.refer(referral, meta)).id

    def execute(
        self,
        pathway_id: UUID,
        command: Callable[[Pathway], None],
        expected_version: int | None = None,
    ) -> Pathway:
        """Runs one command on a pathway and saves what it decided."""
        pathway = self.pathway(pathway_id)
        if expected_version is not None and expected_version != pathway.version:
            raise _concurrent(pathway.version)
        command(pathway)
        self._save(pathway)
        return pathway

    def _save(self, *aggregates: Any) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            # Another command appended to the same stream first.
            current = self.pathway(aggregates[0].id).version if aggregates else None
            raise _concurrent(current) from None

    # -- reads ------------------------------------------------------------------------------

    def pathway(self, pathway_id: UUID, version: int | None = None) -> Pathway:
        try:
            pathway: Any = self.repository.get(pathway_id, version=version)
        except AggregateNotFoundError:
            pathway = None
        if not isinstance(pathway, Pathway):
            raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
        return pathway

    def journal(self, pathway_id: UUID) -> Sequence[EventEnvelope]:
        self.pathway(pathway_id)
        return [
            to_envelope(event)
            for event in self.events.get(pathway_id)
            if isinstance(event, PathwayEvent)
        ]


def _concurrent(current_version: int | None) -> ConcurrentChangeError:
    return ConcurrentChangeError(
        "Le parcours a été modifié entre-temps : rechargez-le puis recommencez.",
        current_version=current_version,
    )



def read_log(journal: Journal, start: int, limit: int) -> list[tuple[int, EventEnvelope | None]]:
    """The global log from position ``start`` on: (position, envelope), or None for a stored
    event that is not part of a pathway (the person index)."""
    entries: list[tuple[int, EventEnvelope | None]] = []
    for notification in journal.recorder.select_notifications(start=start, limit=limit):
        event = journal.mapper.to_domain_event(notification)
        envelope = to_envelope(event, notification.id) if isinstance(event, PathwayEvent) else None
        entries.append((notification.id, envelope))
    return entries
