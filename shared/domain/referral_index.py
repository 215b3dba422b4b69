"""Which stream a referral went to: an aggregate per referral id, saved with the referral, so
that its sender can follow it (``GET /referrals/{id}``) without being given the pathway's id."""

from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import BaseAggregate, CanInitAggregate
from pydantic import AwareDatetime, BaseModel, ConfigDict


class ReferralIndexed(BaseModel, CanInitAggregate[UUID]):
    """Records which stream a referral went to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    originator_topic: str
    pathway_id: UUID


class ReferralIndex(BaseAggregate[UUID]):
    NAMESPACE: ClassVar[UUID] = uuid5(NAMESPACE_URL, "urn:parcours:referral-index")

    def __init__(self, pathway_id: UUID) -> None:
        self.pathway_id = pathway_id

    @classmethod
    def id_for(cls, referral_id: UUID) -> UUID:
        return uuid5(cls.NAMESPACE, str(referral_id))

    @classmethod
    def create(cls, referral_id: UUID, pathway_id: UUID) -> "ReferralIndex":
        return cls._create(ReferralIndexed, id=cls.id_for(referral_id), pathway_id=pathway_id)
