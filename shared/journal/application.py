"""The journal application: one named method per use case. Each loads the pathway, calls the
domain, resolves the alerts the new facts cleared, and saves everything it changed in one
transaction; the infrastructure's errors come out as domain ones. How the journal is stored
and read is ``journal_store.py``.

A little over 300 lines on purpose: every use case in one file, each a few lines, so that a
newcomer reads what the platform can do in one place."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import (
    AggregateNotFoundError,
)
from eventsourcing.persistence import IntegrityError

from shared import events as ev
from shared.domain.commands import SYSTEM, Delays, Meta, Policy
from shared.domain.dates import DEFAULT_TIME_ZONE, moment
from shared.domain.errors import (
    ConcurrentChangeError,
    ImplausibleInputError,
    PathwayError,
)
from shared.domain.pathway import Pathway
from shared.domain.person_index import PersonIndex
from shared.domain.plausibility import require_not_in_future
from shared.domain.records import ReceivedValidation
from shared.domain.referral_index import ReferralIndex
from shared.domain.ruptures import deadlines, wanted_keys
from shared.domain.territory import Territory
from shared.journal import idempotency
from shared.journal.locks import TerritoryLocks
from shared.journal.store import JournalStore

Outcome = TypeVar("Outcome")
Decision = Callable[[Pathway], Sequence[Any]]
"""Runs commands on a pathway; returns the other aggregates to save with it."""

ATTEMPTS = 10


class Journal(JournalStore):
    """The use cases: one named method each."""

    def __init__(self, env: dict[str, str] | None = None, *, policy: Policy | None = None,
                 delays: Delays | None = None, zone: ZoneInfo = DEFAULT_TIME_ZONE) -> None:
        super().__init__(env=env)
        self.policy, self.delays, self.zone = policy or Policy(), delays or Delays(), zone
        self.territory_locks = TerritoryLocks(self.env)

    def close(self) -> None:
        self.territory_locks.close()
        super().close()

    # -- intake -----------------------------------------------------------------------------

    def refer(self, referral: ev.Referred, meta: Meta) -> UUID:
        """Opens a stream for a new person, or the next episode of a known one. DAC staff
        refer so: a rule it breaks (an episode open, other identity traits) is an error."""
        def known(pathway: Pathway) -> bool:
            pathway.refer(referral, meta)
            return True
        return self._referred(referral, meta, known).pathway_id

    def receive_referral(self, referral: ev.Referred, meta: Meta) -> "Received":
        """A referring professional's referral: opens a stream or the next episode like
        ``refer``, or, for a person already followed or an INS with other traits, is recorded
        on the pathway as a repeat referral for the coordination. Its sender is to be answered
        the same whichever happened; ``Received`` says which, for the platform only."""
        require_not_in_future(referral.referred_on, self._stamped(meta))
        return self._referred(referral, meta,
                              lambda pathway: pathway.receive_referral(referral, meta))

    def _referred(self, referral: ev.Referred, meta: Meta,
                  known: Callable[[Pathway], bool]) -> "Received":
        meta = self._stamped(meta)
        idempotency.replay_if_applied(self.recorder, meta)
        if not self.territory_has_managers(referral.territory):
            raise ImplausibleInputError(
                "territory.unknown",
                f"Le territoire « {referral.territory} » n'a aucun gestionnaire de cas "
                "enregistré : vérifiez le code du territoire.", territory=referral.territory)
        referral_id = referral.referral_id
        try:
            index: PersonIndex = self.repository.get(PersonIndex.id_for(referral.person.ins))
        except AggregateNotFoundError:
            pathway = Pathway.open(referral, meta)
            indexes: list[Any] = [PersonIndex.create(referral.person.ins, pathway.id)]
            if referral_id is not None:
                indexes.append(ReferralIndex.create(referral_id, pathway.id))
            try:
                self.save(pathway, *indexes, **idempotency.saving(meta, pathway))
            except IntegrityError:
                # The same referral sent twice at once (its answer), or the same person
                # referred twice at once: the second is a new episode (or a repeat).
                idempotency.replay_if_applied(self.recorder, meta)
            else:
                return Received(pathway.id, opened=True)
            index = self.repository.get(PersonIndex.id_for(referral.person.ins))
        opened: list[bool] = []

        def decide(pathway: Pathway) -> list[Any]:
            opened[:] = [known(pathway)]
            return [] if referral_id is None else [ReferralIndex.create(referral_id, pathway.id)]
        pathway = self._transact(index.pathway_id, decide, None, meta)
        return Received(pathway.id, opened=opened[0])

    def resolve_repeat_referral(self, pathway_id: UUID, referral_id: UUID,
                                outcome: ev.payloads.RepeatOutcome, comment: str,
                                meta: Meta) -> Pathway:
        """The coordinator joins a repeat referral to the pathway, or declines it."""
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.resolve_repeat_referral(
            referral_id, outcome, comment, meta), None, meta)

    def share_episodes(self, pathway_id: UUID, shared: ev.EpisodesShared, meta: Meta) -> Pathway:
        """The person moves: the origin territory shares its episodes with the new one."""
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.share_episodes(shared, meta), None, meta)

    def correct_identity(self, pathway_id: UUID, correction: ev.IdentityCorrected, meta: Meta,
                         expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.correct_identity(correction, meta),
                         expected_version, meta)

    def admit(self, pathway_id: UUID, decision: ev.Admitted, case_manager_id: str | None,
              meta: Meta, expected_version: int | None = None) -> Pathway:
        """Admits, then gives the person a place, or a rank on the waiting list."""
        meta = self._stamped(meta)
        on_decision = replace(meta, occurred_at=moment(decision.decided_on, self.zone))

        def decide(pathway: Pathway) -> list[Any]:
            territory = self.territory(pathway.territory)
            pathway.admit(decision, meta)
            manager = case_manager_id or territory.roomiest()
            if manager is None:
                rank = territory.enqueue(pathway.id, meta.now)
                pathway.wait_for_place(ev.Waitlisted(rank=rank, since=decision.decided_on), meta)
            else:
                self._give_place(territory, pathway, manager, "admission", on_decision)
            return [territory]
        return self._transact(pathway_id, decide, expected_version, meta, places=True)

    def refuse(self, pathway_id: UUID, decision: ev.AdmissionRefused, meta: Meta,
               expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.refuse(decision, meta), expected_version, meta)

    def transfer(self, pathway_id: UUID, case_manager_id: str, reason: str, meta: Meta,
                 expected_version: int | None = None) -> Pathway:
        """Gives the pathway to another case manager of the territory."""
        meta = self._stamped(meta)

        def decide(pathway: Pathway) -> list[Any]:
            territory = self.territory(pathway.territory)
            self._give_place(territory, pathway, case_manager_id, reason, meta)
            return [territory]
        return self._transact(pathway_id, decide, expected_version, meta, places=True)

    def register_manager(self, territory_code: str, manager_id: str, name: str,
                         capacity: int | None, meta: Meta) -> Territory:
        """Adds a case manager or changes their capacity (without one, the practice's
        default); waiting persons take the new room."""
        meta = self._stamped(meta)
        if capacity is None:
            capacity = self.policy.default_capacity
        with self.territory_locks.hold(territory_code):
            for _ in range(ATTEMPTS):
                territory = self.territory(territory_code)
                territory.register(manager_id, name, capacity)
                try:
                    self.save(territory, *self._fill_places(territory, meta))
                    return territory
                except IntegrityError:
                    continue  # a waiting person's pathway changed meanwhile
        raise _concurrent(None)

    # -- case file --------------------------------------------------------------------------

    def evaluate(self, pathway_id: UUID, evaluation: ev.Evaluated, meta: Meta,
                 expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.evaluate(evaluation, meta), expected_version, meta)

    def revise_plan(self, pathway_id: UUID, plan: ev.PlanRevised, meta: Meta,
                    expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        dated = plan if plan.revised_on else plan.model_copy(
            update={"revised_on": self.today(meta)})
        return self._run(pathway_id, lambda p: p.revise_plan(dated, meta), expected_version, meta)

    def validate_plan(self, pathway_id: UUID, revision: int, validated_on: date,
                      received: ReceivedValidation | None, meta: Meta,
                      expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id,
                         lambda p: p.validate_plan(revision, validated_on, meta, received),
                         expected_version, meta)

    def join_care_circle(self, pathway_id: UUID, joined: ev.MemberJoined, meta: Meta,
                         expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.join(joined, meta), expected_version, meta)

    def leave_care_circle(self, pathway_id: UUID, left: ev.MemberLeft, meta: Meta,
                          expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.leave(left, meta), expected_version, meta)

    def hospitalise(self, pathway_id: UUID, stay: ev.Hospitalised, meta: Meta,
                    expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.hospitalise(stay, meta), expected_version, meta)

    def transfer_stay(self, pathway_id: UUID, transfer: ev.StayTransferred, meta: Meta,
                      expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.transfer_stay(transfer, meta),
                         expected_version, meta)

    def discharge(self, pathway_id: UUID, discharge: ev.Discharged, meta: Meta,
                  expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.discharge(discharge, meta), expected_version, meta)

    def receive_discharge_letter(self, pathway_id: UUID, letter: ev.DischargeLetterReceived,
                                 meta: Meta, expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.receive_discharge_letter(letter, meta),
                         expected_version, meta)

    def note(self, pathway_id: UUID, note: ev.FollowUpNoted, meta: Meta,
             expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.note(note, meta), expected_version, meta)

    def report_dysfunction(self, pathway_id: UUID, report: ev.DysfunctionReported, meta: Meta,
                           expected_version: int | None = None) -> Pathway:
        meta = self._stamped(meta)
        dated = report if report.reported_on else report.model_copy(
            update={"reported_on": self.today(meta)})
        return self._run(pathway_id, lambda p: p.report_dysfunction(dated, meta),
                         expected_version, meta)

    def close_episode(self, pathway_id: UUID, closure: ev.Closed, meta: Meta,
                      expected_version: int | None = None) -> Pathway:
        """Closes the episode; the place it frees goes to the first person waiting."""
        meta = self._stamped(meta)

        def decide(pathway: Pathway) -> list[Any]:
            territory = self.territory(pathway.territory)
            pathway.close(closure, meta)
            territory.release(pathway.id)
            return [territory, *self._fill_places(territory, meta)]
        return self._transact(pathway_id, decide, expected_version, meta, places=True)

    def record_hospital_movement(self, pathway_id: UUID, movement: Callable[[Pathway], Outcome],
                                 meta: Meta | None = None) -> Outcome:
        """A movement a hospital's ADT feed reports (services/hl7 maps each message to the
        Pathway's own command); returns what the command says it did. ``meta``: its
        idempotency key, the message's own (``AlreadyAppliedError`` for a resend)."""
        changed: list[Outcome] = []

        def decide(pathway: Pathway) -> list[Any]:
            changed[:] = [movement(pathway)]
            return []
        self._transact(pathway_id, decide, None, meta)
        return changed[0]

    def resolve_identity_vigilance(self, pathway_id: UUID, vigilance_id: UUID, comment: str,
                                   meta: Meta) -> Pathway:
        """A professional checked an identity-vigilance incident with the hospital."""
        meta = self._stamped(meta)
        return self._run(pathway_id,
                         lambda p: p.resolve_identity_vigilance(vigilance_id, comment, meta),
                         None, meta)

    # -- alerts -----------------------------------------------------------------------------

    def raise_alert(self, pathway_id: UUID, alert: ev.AlertRaised) -> bool:
        """Records a rule's alert unless it fired already or its condition has cleared. Its
        recipients are the file's as it stands when the alert is raised: a deadline planned
        before a transfer goes to the new case manager, not to the former one."""
        meta = self._stamped(Meta(actor=SYSTEM))
        raised: list[bool] = []

        def decide(pathway: Pathway) -> list[Any]:
            wanted = {d.dedup_key: d for d in deadlines(pathway.state, self.delays, self.policy)}
            current = wanted.get(alert.dedup_key)
            fresh = alert.model_copy(update={"recipients": list(current.recipients)}) \
                if current else alert
            raised[:] = [pathway.raise_alert(fresh, meta, set(wanted))]
            return []
        self._transact(pathway_id, decide, None, meta)
        return raised[0]

    def acknowledge_alert(self, pathway_id: UUID, alert_id: UUID, comment: str,
                          meta: Meta) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.acknowledge_alert(alert_id, comment, meta),
                         None, meta)

    def resolve_alert(self, pathway_id: UUID, alert_id: UUID, comment: str,
                      meta: Meta) -> Pathway:
        meta = self._stamped(meta)
        return self._run(pathway_id, lambda p: p.resolve_alert(alert_id, comment, meta), None, meta)

    def wanted_keys(self, pathway: Pathway) -> set[str]:
        return wanted_keys(pathway.state, self.delays, self.policy)

    # -- how every command runs -------------------------------------------------------------

    def _stamped(self, meta: Meta) -> Meta:
        return replace(meta, zone=self.zone)

    def today(self, meta: Meta) -> date:
        return meta.now.astimezone(self.zone).date()

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

    def _run(self, pathway_id: UUID, command: Callable[[Pathway], object],
             expected_version: int | None, meta: Meta) -> Pathway:
        def decide(pathway: Pathway) -> list[Any]:
            command(pathway)
            return []
        return self._transact(pathway_id, decide, expected_version, meta)

    def _transact(self, pathway_id: UUID, decide: Decision, expected_version: int | None,
                  meta: Meta | None, places: bool = False) -> Pathway:
        """Saves the pathway and what else the decision changed, in one transaction.

        With ``If-Match`` (``expected_version``) a change made meanwhile is the caller's to
        look at: 409 with the current version. Without it, the command is tried again on the
        fresh state, its rules checked again: an alert the scheduler appended a moment
        before is no reason to bother the user. ``places``: the decision takes or frees a
        place of the territory, so it waits for its turn on the territory. A command sent
        again under an ``Idempotency-Key`` already recorded is not run (``meta``; see
        ``shared.journal.idempotency``): checked first, and again after a conflict, which may be
        the same command sent twice at once."""
        if not places:
            return self._attempts(pathway_id, decide, expected_version, meta, None)
        # The territory as the cached pathway says, without a query: each attempt checks it
        # against the pathway it loaded, and one that moved takes its new territory's turn.
        territory = self.territory_of(pathway_id)
        for _ in range(ATTEMPTS):
            with self.territory_locks.hold(territory):
                try:
                    return self._attempts(pathway_id, decide, expected_version, meta,
                                          territory)
                except _MovedError as moved:
                    territory = moved.territory
        raise _concurrent(self.pathway(pathway_id).version)

    def _attempts(self, pathway_id: UUID, decide: Decision, expected_version: int | None,
                  meta: Meta | None, held: str | None) -> Pathway:
        """``_transact``'s attempts; ``held``: the territory whose turn this is."""
        for attempt in range(ATTEMPTS):
            # The first attempt decides on the cached aggregates as they are: saving
            # refuses a stale one, and a refusal or a decision to record nothing, which a
            # stale copy could also cause, is decided again on the store's state.
            optimistic = attempt == 0
            self._attempt.optimistic = optimistic
            try:
                if meta:
                    idempotency.replay_if_applied(self.recorder, meta)
                pathway = self.pathway(pathway_id)
                if expected_version is not None and expected_version != pathway.version:
                    self._attempt.optimistic = False  # the cache may only be behind
                    pathway = self.pathway(pathway_id)
                loaded = pathway.version
                if expected_version is not None and expected_version != loaded:
                    raise _concurrent(loaded)
                if held is not None and pathway.territory != held:
                    if optimistic:
                        continue  # a stale copy: the store says where it is
                    raise _MovedError(pathway.territory)
                try:
                    others = decide(pathway)
                except PathwayError:
                    if optimistic:
                        continue
                    raise
            finally:
                self._attempt.optimistic = False
            pathway.resolve_cleared_alerts(self.wanted_keys(pathway))
            if optimistic and not any(a.pending_events for a in (pathway, *others)):
                continue
            try:
                self.save(pathway, *others,
                          **(idempotency.saving(meta, pathway) if meta else {}))
                return pathway
            except IntegrityError:
                current = self.pathway(pathway_id).version
                if expected_version is not None and current != loaded:
                    raise _concurrent(current) from None
        raise _concurrent(self.pathway(pathway_id).version)


@dataclass(frozen=True)
class Received:
    """Where a referral went: for the platform, never for a referring professional."""

    pathway_id: UUID
    opened: bool
    """It opened a stream or an episode; else a repeat referral was recorded."""


class _MovedError(Exception):
    """The pathway is on another territory than the one whose turn was taken."""

    def __init__(self, territory: str) -> None:
        super().__init__(territory)
        self.territory = territory


def _concurrent(current_version: int | None) -> ConcurrentChangeError:
    return ConcurrentChangeError(
        "Le parcours a été modifié entre-temps : rechargez-le puis recommencez.",
        current_version=current_version,
    )
