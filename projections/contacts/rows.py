"""The contact view's rows as plain values, and the filters every query shares. No I/O.

A period is ``[since, until)``: on ``until`` the person or the professional is no longer
there, as for the care circle in the journal (``Membership.active_on``)."""

from dataclasses import dataclass, field, replace
from datetime import date

CASE_MANAGER = "case_manager"
REFERRER = "referrer"
ATTENDING_GP = "attending_gp"
RELATIVE_ROLES = frozenset({"family_carer", "trusted_person"})
"""Relatives intervene but are not professionals: they stay out of rankings and pairs."""

ROLE_LABELS = {
    CASE_MANAGER: "gestionnaire de cas",
    REFERRER: "orienteur",
    ATTENDING_GP: "médecin traitant",
    "nurse": "infirmier ou infirmière",
    "ssiad": "SSIAD (soins infirmiers à domicile)",
    "saad": "SAAD (aide à domicile)",
    "physiotherapist": "masseur-kinésithérapeute",
    "pharmacist": "pharmacien ou pharmacienne",
    "social_worker": "assistant ou assistante de service social",
    "family_carer": "aidant familial",
    "trusted_person": "personne de confiance",
    "hospital_team": "équipe hospitalière",
    "other": "autre intervenant",
}
ROLE_ORDER = {role: rank for rank, role in enumerate(ROLE_LABELS)}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def _active(since: date, until: date | None, day: date) -> bool:
    return since <= day and (until is None or day < until)


@dataclass(frozen=True)
class Person:
    pathway_id: str
    label: str
    commune: str
    territory: str
    status: str
    episode: int


@dataclass(frozen=True)
class Episode:
    """One referral of a person and what followed it, until refusal or closure."""

    pathway_id: str
    number: int
    territory: str
    referred_on: date
    admitted_on: date | None = None
    ended_on: date | None = None
    outcome: str | None = None

    def active_on(self, day: date) -> bool:
        return _active(self.referred_on, self.ended_on, day)

    def status_on(self, day: date) -> str:
        return "active" if self.admitted_on and self.admitted_on <= day else "awaiting_decision"


@dataclass(frozen=True)
class Edge:
    """Someone intervening for a person in a role, over a period of one episode."""

    pathway_id: str
    episode: int
    member_id: str
    member_name: str
    role: str
    organisation: str | None
    since: date
    until: date | None = None

    def active_on(self, day: date) -> bool:
        return _active(self.since, self.until, day)

    @property
    def is_relative(self) -> bool:
        return self.role in RELATIVE_ROLES


@dataclass(frozen=True)
class ContactRows:
    persons: list[Person] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def in_territory(self, territory: str | None) -> "ContactRows":
        """What happened in one territory: episodes there, and the edges of those episodes."""
        if territory is None:
            return self
        episodes = [e for e in self.episodes if e.territory == territory]
        kept = {(e.pathway_id, e.number) for e in episodes}
        persons = {e.pathway_id for e in episodes}
        return ContactRows(
            persons=[p for p in self.persons if p.pathway_id in persons],
            episodes=episodes,
            edges=[e for e in self.edges if (e.pathway_id, e.episode) in kept],
        )

    def on(self, day: date | None) -> "ContactRows":
        """The situation on one day: persons then followed and edges then active."""
        if day is None:
            return self
        episodes = [e for e in self.episodes if e.active_on(day)]
        # Episodes of a person never overlap: at most one is open on a given day.
        current = {e.pathway_id: e for e in episodes}
        open_episodes = {(e.pathway_id, e.number) for e in episodes}
        return ContactRows(
            persons=[replace(p, status=current[p.pathway_id].status_on(day),
                             territory=current[p.pathway_id].territory)
                     for p in self.persons if p.pathway_id in current],
            episodes=episodes,
            edges=[e for e in self.edges if e.active_on(day)
                   and (e.pathway_id, e.episode) in open_episodes],
        )

