"""Who may see and do what, following the practice. Pure functions of the caller and of the
facts of one pathway: no I/O.

A professional reads a person's file only as its case manager, as the coordinator of its
territory, or while an active member of its care circle (membership periods decide). Anyone
else is answered as if the pathway did not exist.

Each episode belongs to the territory that followed it: the coordinators and case managers of
a territory read its episodes (and those another territory shared with it when the person
moved), never another territory's; a reader who may not see the current episode reads the file
as it stood at the end of the last episode they may see."""

from dataclasses import dataclass
from datetime import date

from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.domain.records import Membership


@dataclass(frozen=True)
class EpisodeFacts:
    number: int
    territory: str
    shared_with: frozenset[str]
    first_version: int
    last_version: int


@dataclass(frozen=True)
class PathwayFacts:
    territory: str
    case_manager_id: str | None
    referrer_ids: frozenset[str]
    memberships: tuple[Membership, ...]
    episodes: tuple[EpisodeFacts, ...] = ()

    @classmethod
    def of(cls, pathway: Pathway) -> "PathwayFacts":
        return cls(
            territory=pathway.territory,
            case_manager_id=pathway.case_manager_id,
            referrer_ids=frozenset(e.referrer_id for e in pathway.episodes),
            memberships=tuple(pathway.care_circle),
            episodes=tuple(EpisodeFacts(e.number, e.territory, e.shared_with, e.first_version,
                                        e.last_version) for e in pathway.episodes),
        )

    def member_on(self, professional_id: str, day: date, role: str | None = None) -> bool:
        return any(m.member.member_id == professional_id and m.active_on(day)
                   and (role is None or m.member.role == role) for m in self.memberships)


def coordinates(principal: Principal, territory: str) -> bool:
    return principal.role == "coordinator" and principal.territory == territory


def follows(principal: Principal, facts: PathwayFacts) -> bool:
    """May act on the case file: its case manager, or the territory's coordinator."""
    return coordinates(principal, facts.territory) or (
        principal.role == "case_manager" and facts.case_manager_id == principal.id
    )


def reads_file(principal: Principal, facts: PathwayFacts, day: date) -> bool:
    return bool(visible_episodes(principal, facts, day))


def reads_current_episode(principal: Principal, facts: PathwayFacts, day: date) -> bool:
    if principal.role in ("analyst", "administrator"):
        return False  # aggregates and settings only, never a named person
    return follows(principal, facts) or facts.member_on(principal.id, day)


def visible_episodes(principal: Principal, facts: PathwayFacts, day: date) -> list[EpisodeFacts]:
    """The episodes of the person's file that this professional may read today: the
    coordinator, those of their territory (or shared with it); the case manager who follows the
    person now, the current one and the earlier ones of their territory; a member of the care
    circle, the current one while a member."""
    if principal.role in ("analyst", "administrator") or not facts.episodes:
        return []
    current = facts.episodes[-1]
    ours = [e for e in facts.episodes
            if principal.territory and (e.territory == principal.territory
                                        or principal.territory in e.shared_with)]
    if principal.role == "coordinator":
        return ours
    if not reads_current_episode(principal, facts, day):
        return []
    if principal.role == "case_manager":
        return sorted({*ours, current}, key=lambda e: e.number)
    return [current]


def reads_decision(principal: Principal, facts: PathwayFacts, day: date) -> bool:
    """The referrer sees the decision on their own referrals: those that opened an episode
    (``referrer_ids``), never a repeat referral's sender, who learns nothing of the pathway."""
    return reads_file(principal, facts, day) or (
        principal.role == "referrer" and principal.id in facts.referrer_ids
    )


def reads_receipt(principal: Principal, sender_id: str) -> bool:
    """A referral's receipt (``GET /referrals/{id}``) is its sender's alone: it must tell no
    one else where a referral went, nor the sender anything of the person's other
    episodes."""
    return principal.id == sender_id


CARE_ROLES = frozenset({"attending_gp", "nurse", "ssiad", "saad", "physiotherapist",
                        "pharmacist", "social_worker", "hospital_team", "other"})
"""The care circle's professionals; relatives and trusted persons read, they do not handle
alerts."""


def handles_alerts(principal: Principal, facts: PathwayFacts, day: date) -> bool:
    """Acknowledges and resolves a person's alerts: the case manager, the coordinator, and the
    members of the care circle with a care role on that day."""
    return follows(principal, facts) or any(
        facts.member_on(principal.id, day, role) for role in CARE_ROLES)


def validates_plan(principal: Principal, facts: PathwayFacts, day: date) -> bool:
    return follows(principal, facts) or facts.member_on(principal.id, day, "attending_gp")


def refers(principal: Principal, territory: str) -> bool:
    if principal.role == "referrer":
        return True
    return principal.role in ("case_manager", "coordinator") and principal.territory == territory


def administers(principal: Principal, territory: str | None) -> bool:
    """An administrator acts on their own territory only: there is no platform-wide one."""
    return (principal.role == "administrator" and principal.territory is not None
            and principal.territory == territory)


def manages_territory(principal: Principal, territory: str) -> bool:
    """Case managers and their capacity: a setting of the territory."""
    return coordinates(principal, territory) or administers(principal, territory)
