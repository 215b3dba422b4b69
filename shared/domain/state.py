"""The Pathway aggregate's state and the guards every command shares.

``Pathway`` (``domain.py``) is this state with its commands; the hospital stays
(``stays.py``) and the alerts' lifecycle (``alerting.py``) are parts of it kept in modules of
their own."""

from copy import copy
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from shared import events as ev
from shared.domain.commands import Meta, Policy
from shared.domain.errors import RuleBrokenError
from shared.domain.events import EVENT_CLASSES, event_fields
from shared.domain.followup import FollowUpState
from shared.domain.plausibility import Bound, require_plausible
from shared.domain.records import (
    Alert,
    Episode,
    FollowUp,
    Membership,
    RepeatReferral,
    Status,
    Stay,
    Vigilance,
)
from shared.events.values import Person

SHARED_BY_COPIES = frozenset({
    "_id", "_version", "_created_on", "_modified_on", "person", "identity_qualified_by",
    "territory", "status",
    "admitted_on", "case_manager_id", "waiting_rank", "letter_received", "last_fact_event_id"})
"""The pathway's fields whose values are immutable, that a copy may share; every other field
is copied by ``PathwayState.__deepcopy__``, and a test checks that the two cover the state.
(Not a class attribute: the library's metaclass reads class annotations as fields.)"""


class PathwayState(BaseAggregate[UUID]):
    def __init__(self) -> None:
        self.person: Person | None = None
        self.identity_qualified_by: str | None = None
        """The hospital whose qualified identity agreed with the person's traits, if any."""
        self.territory = ""
        self.status = Status.AWAITING_DECISION
        self.episodes: list[Episode] = []
        self.admitted_on: date | None = None
        self.case_manager_id: str | None = None
        self.waiting_rank: int | None = None
        self.open_stay: Stay | None = None
        self.discharged_stay: Stay | None = None
        """The latest stay once it ended, while no other is open: a hospital may correct it."""
        self.care_circle: list[Membership] = []
        self.follow_up = FollowUp()
        self.state = FollowUpState(pathway_id="", territory="", person_label="")
        self.alerts: dict[UUID, Alert] = {}
        self.fired_keys: set[str] = set()
        self.vigilance: dict[UUID, Vigilance] = {}
        """Identity-vigilance incidents, resolved or not, across episodes: the identity is the
        person's, not an episode's."""
        self.repeat_referrals: dict[UUID, RepeatReferral] = {}
        """Referrals for the person (or their INS) while the pathway followed them, resolved
        or not, across episodes, by referral id."""
        self.letter_received = False
        self.last_fact_event_id: UUID | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> "PathwayState":
        """The repository copies the cached pathway for each command, and keeps a copy of
        what each command saved. Its records are flat (dates, strings, frozen values), so
        copying each container and each mutable record one level deep is a deep copy, without
        ``copy.deepcopy``'s walk through every value (most of a command's copying time)."""
        twin = copy(self)
        twin.episodes = [copy(episode) for episode in self.episodes]
        twin.open_stay = copy(self.open_stay)
        twin.discharged_stay = copy(self.discharged_stay)  # a correction changes it in place
        twin.care_circle = [copy(membership) for membership in self.care_circle]
        follow_up = self.follow_up
        twin.follow_up = replace(follow_up, plans=dict(follow_up.plans),
                                 plan_dates=dict(follow_up.plan_dates),
                                 validations=dict(follow_up.validations))
        twin.state = self.state.model_copy(
            update={"members": [member.model_copy() for member in self.state.members]})
        twin.alerts = {alert_id: copy(alert) for alert_id, alert in self.alerts.items()}
        twin.fired_keys = set(self.fired_keys)
        twin.vigilance = dict(self.vigilance)
        twin.repeat_referrals = dict(self.repeat_referrals)
        twin._pending_events = list(self._pending_events)
        memo[id(self)] = twin
        return twin

    @property
    def episode(self) -> int:
        return len(self.episodes)

    @property
    def plan_revision(self) -> int:
        return max(self.follow_up.plans, default=0)

    def active_members(self, day: date) -> list[Membership]:
        return [m for m in self.care_circle if m.active_on(day)]

    def attending_gp(self, day: date) -> Membership | None:
        gps = [m for m in self.active_members(day) if m.member.role == "attending_gp"]
        return gps[0] if gps else None

    def next_evaluation_due(self, policy: Policy) -> date | None:
        return self.state.next_evaluation_due(policy)

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.state != "resolved"]

    def open_vigilance(self) -> list[Vigilance]:
        return [v for v in self.vigilance.values() if v.resolved_by is None]

    def open_repeat_referrals(self) -> list[RepeatReferral]:
        return [r for r in self.repeat_referrals.values() if r.outcome is None]

    # -- guards -----------------------------------------------------------------------------

    def _referral_bound(self) -> Bound:
        return self.episodes[-1].referred_on, "l'orientation"

    def _admission_bound(self) -> Bound:
        return self.admitted_on, "l'admission en gestion de cas"

    def _dated(self, fact: date | datetime, meta: Meta, *bounds: Bound) -> None:
        require_plausible(fact, meta, *bounds)

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
        self.trigger_event(EVENT_CLASSES[payload.type_name()], **event_fields(payload, meta))
