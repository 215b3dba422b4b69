"""The journal application: load the aggregates, call the command, save them together;
translate the infrastructure's errors into domain ones."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper

from shared import events as ev
from shared.events import EventEnvelope
from shared.pathway.commands import Meta
from shared.pathway.domain import Pathway, PersonIndex
from shared.pathway.errors import ConcurrentChangeError, PathwayNotFoundError
from shared.pathway.events import PathwayEvent
from shared.pathway.persistence import JsonTranscoder, PydanticMapper, to_envelope
from shared.pathway.territory import Territory

Decision = Callable[[Pathway], Sequence[Any]]
"""Runs commands on a pathway; returns the other aggregates to save with it."""

ATTEMPTS = 5


class Journal(Application[UUID]):
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(transcoder=JsonTranscoder())

    # -- intake -----------------------------------------------------------------------------

    def refer(self, referral: ev.Referred, meta: Meta) -> UUID:
        """Opens a stream for a new person, or the next episode of a known one."""
        try:
            index: PersonIndex = self.repository.get(PersonIndex.id_for(referral.person.ins))
        except AggregateNotFoundError:
            pathway = Pathway.open(referral, meta)
            try:
                self.save(pathway, PersonIndex.create(referral.person.ins, pathway.id))
            except IntegrityError:
                raise _concurrent(None) from None  # the same person referred twice at once
            return pathway.id
        return self.execute(index.pathway_id, lambda p: p.refer(referral, meta)).id

    def admit(self, pathway_id: UUID, decision: ev.Admitted, case_manager_id: str | None,
              meta: Meta, expected_version: int | None = None) -> Pathway:
        """Admits, then gives the person a place, or a rank on the waiting list."""
        def decide(pathway: Pathway) -> list[Any]:
            territory = self.territory(pathway.territory)
            pathway.admit(decision, meta)
            manager = case_manager_id or territory.roomiest()
            if manager is None:
                rank = territory.enqueue(pathway.id, datetime.now(UTC))
                pathway.wait_for_place(ev.Waitlisted(rank=rank, since=decision.decided_on), meta)
            else:
                self._give_place(territory, pathway, manager, "admission", meta)
            return [territory]
        return self.transact(pathway_id, decide, expected_version)

    def transfer(self, pathway_id: UUID, case_manager_id: str, reason: str, meta: Meta,
                 expected_version: int | None = None) -> Pathway:
        def decide(pathway: Pathway) -> list[Any]:
            territory = self.territory(pathway.territory)
            self._give_place(territory, pathway, case_manager_id, reason, meta)
            return [territory]
        return self.transact(pathway_id, decide, expected_version)

    def close_episode(self, pathway_id: UUID, closure: ev.Closed, meta: Meta,
              expected_version: int | None = None) -> Pathway:
        """Closes the episode; the place it frees goes to the first person waiting."""
        def decide(pathway: Pathway) -> list[Any]:
            territory = self.territory(pathway.territory)
            pathway.close(closure, meta)
            territory.release(pathway.id)
            return [territory, *self._fill_places(territory, meta)]
        return self.transact(pathway_id, decide, expected_version)

    def register_manager(self, territory_code: str, manager_id: str, name: str, capacity: int,
                         meta: Meta) -> Territory:
        """Adds a case manager or changes their capacity; waiting persons take the new room."""
        for _ in range(ATTEMPTS):
            territory = self.territory(territory_code)
            territory.register(manager_id, name, capacity)
            try:
                self.save(territory, *self._fill_places(territory, meta))
                return territory
            except IntegrityError:
                continue
        raise _concurrent(None)

    def _give_place(self, territory: Territory, pathway: Pathway, manager_id: str,
                    reason: str, meta: Meta) -> None:
        territory.take_place(pathway.id, manager_id)
        pathway.assign(ev.CaseManagerAssigned(case_manager_id=manager_id,
                                              case_manager_name=territory.name_of(manager_id),
                                              reason=reason), meta)

    def _fill_places(self, territory: Territory, meta: Meta) -> list[Pathway]:
        """Gives free places to the persons waiting, first come first served."""
        assigned = []
        while territory.queue and (manager := territory.roomiest()):
            waiting = self.pathway(territory.queue[0])
            self._give_place(territory, waiting, manager, "place libérée", meta)
            assigned.append(waiting)
        return assigned

    # -- any command ------------------------------------------------------------------------

    def execute(self, pathway_id: UUID, command: Callable[[Pathway], object],
                expected_version: int | None = None) -> Pathway:
        """Runs one command on a pathway and saves what it decided."""
        def decide(pathway: Pathway) -> list[Any]:
            command(pathway)
            return []
        return self.transact(pathway_id, decide, expected_version)

    def transact(self, pathway_id: UUID, decide: Decision,
                 expected_version: int | None = None) -> Pathway:
        """Saves the pathway and what else the decision changed, in one transaction.

        A conflict on the pathway itself is the user's to resolve (409); a conflict on another
        aggregate (the territory's places) is retried on fresh state."""
        for _ in range(ATTEMPTS):
            pathway = self.pathway(pathway_id)
            loaded = pathway.version
            if expected_version is not None and expected_version != loaded:
                raise _concurrent(loaded)
            others = decide(pathway)
            try:
                self.save(pathway, *others)
                return pathway
            except IntegrityError:
                current = self.pathway(pathway_id).version
                if current != loaded:
                    raise _concurrent(current) from None
        raise _concurrent(None)

    # -- reads ------------------------------------------------------------------------------

    def pathway(self, pathway_id: UUID, version: int | None = None) -> Pathway:
        try:
            pathway: Any = self.repository.get(pathway_id, version=version)
        except AggregateNotFoundError:
            pathway = None
        if not isinstance(pathway, Pathway):
            raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
        return pathway

    def pathway_as_of(self, pathway_id: UUID, as_of: datetime) -> Pathway:
        """The pathway as the file showed it at that moment (what had been recorded)."""
        versions = [e.originator_version for e in self.events.get(pathway_id)
                    if isinstance(e, PathwayEvent) and e.timestamp <= as_of]
        if not versions:
            raise PathwayNotFoundError("Ce parcours n'existait pas encore à cette date.",
                                       pathway_id=str(pathway_id))
        return self.pathway(pathway_id, version=max(versions))

    def territory(self, code: str) -> Territory:
        try:
            territory: Territory = self.repository.get(Territory.id_for(code))
        except AggregateNotFoundError:
            territory = Territory.open(code)
        return territory

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
    event that is not part of a pathway (the person index, the territories)."""
    entries: list[tuple[int, EventEnvelope | None]] = []
    for notification in journal.recorder.select_notifications(start=start, limit=limit):
        event = journal.mapper.to_domain_event(notification)
        envelope = to_envelope(event, notification.id) if isinstance(event, PathwayEvent) else None
        entries.append((notification.id, envelope))
    return entries
