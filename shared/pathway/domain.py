"""The Pathway aggregate: the rules of the practice over one person's stream of events.

No I/O here. Events are pydantic models so that the stored JSON and the public contract are
the same shapes; the envelope type of an event is the name of its payload class."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate
from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared import events as ev
from shared.events.values import Person
from shared.pathway.errors import RuleBrokenError


class Status(StrEnum):
    AWAITING_DECISION = "awaiting_decision"
    ACTIVE = "active"
    REFUSED = "refused"
    CLOSED = "closed"


ENDED = (Status.REFUSED, Status.CLOSED)


@dataclass(frozen=True)
class Meta:
    """What every command carries besides its payload."""

    actor: ev.Actor
    occurred_at: datetime | None = None
    correlation_id: UUID = field(default_factory=uuid4)
    causation_id: UUID | None = None


class PathwayEvent(BaseModel, CanMutateAggregate[UUID]):
    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    event_id: UUID
    occurred_at: AwareDatetime
    actor: ev.Actor
    correlation_id: UUID
    causation_id: UUID | None
    data: ev.Payload

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self.data, self)


class PathwayOpened(PathwayEvent, CanInitAggregate[UUID]):
    """The first referral of a person: it creates the stream."""

    originator_topic: str
    data: ev.Referred


class Referred(PathwayEvent):
    """A new referral in an existing stream: it opens the next episode."""

    data: ev.Referred


class Admitted(PathwayEvent):
    data: ev.Admitted


class AdmissionRefused(PathwayEvent):
    data: ev.AdmissionRefused


class CaseManagerAssigned(PathwayEvent):
    data: ev.CaseManagerAssigned


class Evaluated(PathwayEvent):
    data: ev.Evaluated


class PlanRevised(PathwayEvent):
    data: ev.PlanRevised


class Hospitalised(PathwayEvent):
    data: ev.Hospitalised


class Discharged(PathwayEvent):
    data: ev.Discharged


class Closed(PathwayEvent):
    data: ev.Closed


EVENT_CLASSES: dict[str, type[PathwayEvent]] = {
    cls.__name__: cls
    for cls in (
        Referred, Admitted, AdmissionRefused, CaseManagerAssigned, Evaluated, PlanRevised,
        Hospitalised, Discharged, Closed,
    )
}


class Pathway(BaseAggregate[UUID]):
    def __init__(self) -> None:
        self.person: Person | None = None
        self.status = Status.AWAITING_DECISION
        self.episode = 0
        self.case_manager_id: str | None = None
        self.open_stay: ev.Hospitalised | None = None
        self.plan_revision = 0
        self.last_evaluation: ev.Evaluated | None = None

    # -- commands ---------------------------------------------------------------------------

    @classmethod
    def open(cls, referral: ev.Referred, meta: Meta) -> "Pathway":
        return cls._create(PathwayOpened, id=uuid4(), **_event_fields(referral, meta))

    def refer(self, referral: ev.Referred, meta: Meta) -> None:
        if self.status not in ENDED:
            raise RuleBrokenError(
                "pathway.already_open",
                "Cette personne a déjà un parcours en cours : une nouvelle orientation n'est "
                "possible qu'après la clôture ou le refus.",
                pathway_id=str(self.id),
            )
        self._record(referral, meta)

    def admit(self, decision: ev.Admitted, assignment: ev.CaseManagerAssigned, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._record(decision, meta)
        self._record(assignment, meta)

    def refuse(self, decision: ev.AdmissionRefused, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._record(decision, meta)

    def assign(self, assignment: ev.CaseManagerAssigned, meta: Meta) -> None:
        self._require_active()
        if assignment.case_manager_id == self.case_manager_id:
            raise RuleBrokenError(
                "assignment.unchanged", "Ce gestionnaire de cas suit déjà cette personne."
            )
        self._record(assignment, meta)

    def evaluate(self, evaluation: ev.Evaluated, meta: Meta) -> None:
        self._require_active()
        self._record(evaluation, meta)

    def revise_plan(self, plan: ev.PlanRevised, meta: Meta) -> None:
        self._require_active()
        if plan.revision != self.plan_revision + 1:
            raise RuleBrokenError(
                "plan.revision_out_of_sequence",
                f"La révision attendue du PSI est la n° {self.plan_revision + 1}.",
                expected_revision=self.plan_revision + 1,
            )
        self._record(plan, meta)

    def hospitalise(self, stay: ev.Hospitalised, meta: Meta) -> None:
        self._require_active()
        if self.open_stay is not None:
            raise RuleBrokenError(
                "stay.already_open",
                "Une hospitalisation est déjà en cours : enregistrez d'abord la sortie.",
            )
        self._record(stay, meta)

    def discharge(self, discharge: ev.Discharged, meta: Meta) -> None:
        self._require_active()
        if self.open_stay is None:
            raise RuleBrokenError(
                "stay.not_open", "Aucune hospitalisation en cours pour cette personne."
            )
        if discharge.discharged_at < self.open_stay.admitted_at:
            raise RuleBrokenError(
                "stay.discharge_before_admission",
                "La date de sortie précède la date d'entrée à l'hôpital.",
            )
        self._record(discharge, meta)

    def close(self, closure: ev.Closed, meta: Meta) -> None:
        self._require_active()
        self._record(closure, meta)

    # -- rules ------------------------------------------------------------------------------

    def _require_awaiting_decision(self) -> None:
        self._require_not_ended()
        if self.status is not Status.AWAITING_DECISION:
            raise RuleBrokenError(
                "decision.already_made",
                "La décision d'entrée a déjà été prise pour cet épisode.",
            )

    def _require_active(self) -> None:
        self._require_not_ended()
        if self.status is not Status.ACTIVE:
            raise RuleBrokenError(
                "pathway.not_admitted",
                "La personne n'est pas encore admise en gestion de cas.",
            )

    def _require_not_ended(self) -> None:
        if self.status is Status.CLOSED:
            raise RuleBrokenError(
                "episode.closed",
                "Cet épisode est clos : plus aucun événement ne peut y être ajouté.",
            )
        if self.status is Status.REFUSED:
            raise RuleBrokenError(
                "episode.refused",
                "L'entrée a été refusée pour cet épisode : une nouvelle orientation est "
                "nécessaire.",
            )

    def _record(self, payload: ev.Payload, meta: Meta) -> None:
        self.trigger_event(EVENT_CLASSES[payload.type_name()], **_event_fields(payload, meta))

    # -- state changes ----------------------------------------------------------------------

    def when(self, payload: ev.Payload, event: PathwayEvent) -> None:
        match payload:
            case ev.Referred():
                self.person = payload.person
                self.status = Status.AWAITING_DECISION
                self.episode += 1
                self.case_manager_id = None
                self.open_stay = None
                self.plan_revision = 0
                self.last_evaluation = None
            case ev.Admitted():
                self.status = Status.ACTIVE
            case ev.AdmissionRefused():
                self.status = Status.REFUSED
            case ev.CaseManagerAssigned():
                self.case_manager_id = payload.case_manager_id
            case ev.Evaluated():
                self.last_evaluation = payload
            case ev.PlanRevised():
                self.plan_revision = payload.revision
            case ev.Hospitalised():
                self.open_stay = payload
            case ev.Discharged():
                self.open_stay = None
            case ev.Closed():
                self.status = Status.CLOSED
                self.open_stay = None


def _event_fields(payload: ev.Payload, meta: Meta) -> dict[str, object]:
    occurred_at = meta.occurred_at or payload.occurred_at_hint() or datetime.now(UTC)
    return {
        "event_id": uuid4(),
        "occurred_at": occurred_at,
        "actor": meta.actor,
        "correlation_id": meta.correlation_id,
        "causation_id": meta.causation_id,
        "data": payload,
    }


class PersonIndexed(BaseModel, CanInitAggregate[UUID]):
    """Records which stream belongs to a person, so that pathway ids stay random."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    originator_topic: str
    pathway_id: UUID


class PersonIndex(BaseAggregate[UUID]):
    NAMESPACE: ClassVar[UUID] = uuid5(NAMESPACE_URL, "urn:parcours:person-index")

    def __init__(self, pathway_id: UUID) -> None:
        self.pathway_id = pathway_id

    @classmethod
    def id_for(cls, ins: str) -> UUID:
        return uuid5(cls.NAMESPACE, ins)

    @classmethod
    def create(cls, ins: str, pathway_id: UUID) -> "PersonIndex":
        return cls._create(PersonIndexed, id=cls.id_for(ins), pathway_id=pathway_id)
