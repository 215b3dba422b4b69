"""Caseload: one row per pathway, what a case manager and a coordinator need to see at once."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from shared import events as ev
from shared.domain.commands import Policy
from shared.domain.followup import FollowUpState, begin, evolve
from shared.domain.repeats import REPEAT_PAYLOADS
from shared.events import EventEnvelope
from shared.events.values import Person, Professional, SubmittedIdentity
from shared.storage.sqldb import Tx, select_in

TABLE = "caseload_persons"
REFERRALS = "caseload_referrals"

COLUMNS = {
    "pathway_id": "TEXT PRIMARY KEY",
    "person_name": "TEXT NOT NULL",
    "commune": "TEXT NOT NULL",
    "territory": "TEXT NOT NULL",
    "status": "TEXT NOT NULL",
    "episode": "INTEGER NOT NULL",
    "referred_on": "TEXT NOT NULL",
    "admitted_on": "TEXT",
    "case_manager_id": "TEXT",
    "case_manager_name": "TEXT",
    "waiting_rank": "INTEGER",
    "in_hospital_since": "TEXT",
    "establishment": "TEXT",
    "last_evaluated_on": "TEXT",
    "discharged_home_on": "TEXT",
    "next_evaluation_due": "TEXT",
    "last_contact_on": "TEXT",
    "plan_revision": "INTEGER NOT NULL",
    "plan_validated": "INTEGER NOT NULL",
    "open_alerts": "INTEGER NOT NULL",
    "last_event_at": "TEXT NOT NULL",
    "events_applied": "INTEGER NOT NULL",
    "version": "INTEGER NOT NULL",
    "criteria_not_met": "TEXT NOT NULL",
    "follow_up": "TEXT NOT NULL",
}

REFERRAL_COLUMNS = {
    "referral_id": "TEXT PRIMARY KEY",
    "pathway_id": "TEXT NOT NULL",
    "sender_id": "TEXT NOT NULL",
    "sender_name": "TEXT NOT NULL",
    "person_name": "TEXT NOT NULL",
    "referred_on": "TEXT NOT NULL",
    "received_at": "TEXT NOT NULL",
    "kind": "TEXT NOT NULL",
    "episode": "INTEGER",
    "reason": "TEXT",
    "outcome": "TEXT",
}
"""Every referral, by the id its sender was given (the event's id for referrals stored before
ids were given): the episode it opened, or a repeat referral (``kind``) with its reason and
outcome. ``person_name`` is the name as the sender typed it: what Mes orientations shows, never
the file's."""

NEW_EPISODE = {
    "status": "awaiting_decision", "admitted_on": None, "case_manager_id": None,
    "case_manager_name": None, "waiting_rank": None, "in_hospital_since": None,
    "establishment": None, "last_evaluated_on": None, "discharged_home_on": None,
    "next_evaluation_due": None, "last_contact_on": None, "plan_revision": 0,
    "plan_validated": 0, "open_alerts": 0,
}
FROM_FOLLOW_UP = ("in_hospital_since", "establishment", "last_evaluated_on",
                  "discharged_home_on", "next_evaluation_due", "last_contact_on",
                  "plan_revision", "plan_validated")
"""The columns that come from the follow-up fold the rupture rules read too."""


class CaseloadProjection:
    """``suffix`` names a second set of tables, for a replay beside the live ones."""

    schema_version = 3  # v3: the referrals, repeat referrals included

    def __init__(self, policy: Policy | None = None, suffix: str = "") -> None:
        self.policy = policy or Policy()
        self.name = f"caseload{suffix}"
        self.table = f"{TABLE}{suffix}"
        self.referrals = f"{REFERRALS}{suffix}"
        self.tables = (self.table, self.referrals)

    def renamed(self, suffix: str) -> "CaseloadProjection":
        return CaseloadProjection(self.policy, suffix)

    def create_tables(self, tx: Tx) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")
        columns = ", ".join(f"{name} {kind}" for name, kind in REFERRAL_COLUMNS.items())
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.referrals} ({columns})")
        for column in ("sender_id", "pathway_id"):
            tx.execute(f"CREATE INDEX IF NOT EXISTS {self.referrals}_{column} "
                       f"ON {self.referrals} ({column})")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        self.apply_all(tx, [event])

    def apply_all(self, tx: Tx, events: Sequence[EventEnvelope]) -> None:
        """One read of the batch's rows, the fold in memory, one multi-row upsert. The
        follow-up state is parsed and serialised once per pathway and batch, not per event."""
        rows = self._rows(tx, {event.pathway_key for event in events})
        states: dict[str, FollowUpState] = {}
        referrals: dict[str, dict[str, Any]] = {}
        resolved: dict[str, str] = {}
        for event in events:
            pathway_id = event.pathway_key
            payload = event.payload()
            row = rows.get(pathway_id)
            if isinstance(payload, ev.RepeatReferralResolved):
                resolved[str(payload.referral_id)] = payload.outcome
            if isinstance(payload, ev.ReferralReceivedAgain):
                referrals[str(payload.referral_id)] = _referral_row(
                    event, payload.referral_id, payload.referrer, payload.identity,
                    payload.referred_on, kind="repeat", reason=payload.reason)
            if isinstance(payload, ev.Referred):
                person = payload.person
                row = {**(row or {"episode": 0}), **NEW_EPISODE,
                       "pathway_id": pathway_id,
                       "episode": (row or {"episode": 0})["episode"] + 1,
                       "person_name": f"{person.family_name.upper()} {person.given_names}",
                       "commune": person.commune, "territory": payload.territory,
                       "referred_on": payload.referred_on.isoformat(),
                       "criteria_not_met": ",".join(payload.criteria.not_met()),
                       "events_applied": (row or {}).get("events_applied", 0)}
                state = begin(pathway_id, payload)
                referrals[str(payload.referral_id or event.event_id)] = _referral_row(
                    event, payload.referral_id or event.event_id, payload.referrer,
                    payload.person, payload.referred_on, kind="episode",
                    episode=row["episode"])
            elif row is None:
                raise LookupError(f"caseload: {event.type} before any referral for {pathway_id}")
            else:
                row.update(self._changes(row, payload))
                state = states.get(pathway_id) or FollowUpState.model_validate_json(
                    row["follow_up"])
                evolve(state, payload, event.event_id, event.occurred_at, event.actor.id)
            if not isinstance(payload, REPEAT_PAYLOADS):  # they change nothing of the episode
                row.update(last_event_at=event.occurred_at.isoformat())
            row.update(version=event.stream_version, events_applied=row["events_applied"] + 1)
            rows[pathway_id], states[pathway_id] = row, state
        for pathway_id, state in states.items():
            rows[pathway_id].update(self._follow_up(state))
        self._save(tx, [rows[pathway_id] for pathway_id in sorted(states)])
        self._save_referrals(tx, referrals, resolved)

    def _follow_up(self, state: FollowUpState) -> dict[str, Any]:
        due = state.next_evaluation_due(self.policy)
        return {
            "follow_up": state.model_dump_json(),
            "in_hospital_since": _iso(state.stay_since),
            "establishment": state.stay_establishment,
            "last_evaluated_on": _iso(state.last_evaluated_on),
            "discharged_home_on": _iso(state.discharged_home_on),
            "next_evaluation_due": _iso(due),
            "last_contact_on": _iso(state.last_contact_on),
            "plan_revision": state.plan_revision,
            "plan_validated": int(state.plan_validated),
        }

    def _changes(self, row: dict[str, Any], payload: ev.Payload) -> dict[str, Any]:
        match payload:
            case ev.Admitted():
                return {"status": "active", "admitted_on": payload.decided_on.isoformat()}
            case ev.AdmissionRefused():
                return {"status": "refused"}
            case ev.CaseManagerAssigned():
                return {"case_manager_id": payload.case_manager_id,
                        "case_manager_name": payload.case_manager_name, "waiting_rank": None}
            case ev.Waitlisted():
                return {"waiting_rank": payload.rank}
            case ev.IdentityCorrected():
                return {"person_name": f"{payload.family_name.upper()} {payload.given_names}"}
            case ev.AlertRaised():
                return {"open_alerts": row["open_alerts"] + 1}
            case ev.AlertResolved():
                return {"open_alerts": max(0, row["open_alerts"] - 1)}
            case ev.Closed():
                return {"status": "closed", "waiting_rank": None, "open_alerts": 0}
        return {}

    def _rows(self, tx: Tx, pathway_ids: set[str]) -> dict[str, dict[str, Any]]:
        found = select_in(tx, f"SELECT {', '.join(COLUMNS)} FROM {self.table} "
                          "WHERE pathway_id IN ({in})", pathway_ids)
        return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in found}

    def _save_referrals(self, tx: Tx, referrals: dict[str, dict[str, Any]],
                        resolved: dict[str, str]) -> None:
        for referral_id, outcome in resolved.items():
            if referral_id in referrals:
                referrals[referral_id]["outcome"] = outcome
        names = ", ".join(REFERRAL_COLUMNS)
        values = ", ".join(f":{c}" for c in REFERRAL_COLUMNS)
        tx.execute_many(f"INSERT INTO {self.referrals} ({names}) VALUES ({values}) "
                        "ON CONFLICT (referral_id) DO NOTHING", list(referrals.values()))
        tx.execute_many(f"UPDATE {self.referrals} SET outcome = :outcome "
                        "WHERE referral_id = :referral_id",
                        [{"referral_id": r, "outcome": o} for r, o in resolved.items()
                         if r not in referrals])

    def _save(self, tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
        names = ", ".join(COLUMNS)
        values = ", ".join(f":{c}" for c in COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "pathway_id")
        tx.execute_many(f"INSERT INTO {self.table} ({names}) VALUES ({values}) "
                        f"ON CONFLICT (pathway_id) DO UPDATE SET {updates}", rows)


def _referral_row(event: EventEnvelope, referral_id: UUID, sender: Professional,
                  person: Person | SubmittedIdentity, referred_on: date, kind: str,
                  episode: int | None = None, reason: str | None = None) -> dict[str, Any]:
    return {"referral_id": str(referral_id), "pathway_id": event.pathway_key,
            "sender_id": sender.id, "sender_name": sender.name,
            "person_name": f"{person.family_name.upper()} {person.given_names}",
            "referred_on": referred_on.isoformat(), "received_at": event.occurred_at.isoformat(),
            "kind": kind, "episode": episode, "reason": reason, "outcome": None}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None
