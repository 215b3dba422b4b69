"""Which stream belongs to a person: an aggregate per INS, so that pathway ids stay random."""

from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from eventsourcing.utils import register_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict


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


# Indexes written before this module existed name the aggregate's old module.
register_topic("shared.pathway.domain:PersonIndex", PersonIndex)
register_topic("shared.pathway.domain:PersonIndexed", PersonIndexed)
