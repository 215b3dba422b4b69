"""The ruptures view: each pathway's follow-up state, its pending deadlines, and the alerts
raised, acknowledged and resolved."""

import json
from typing import Any

from projections.ruptures.rules import Deadline, FollowUpState, Member, deadlines
from shared import events as ev
from shared.events import EventEnvelope, values
from shared.events.payloads import AdmissionCancelled, DischargeCancelled
from shared.pathway.commands import Delays, Policy
from shared.sqldb import Tx

STATE, DEADLINES, ALERTS = "rupture_state", "rupture_deadlines", "alerts"

ALERT_COLUMNS = ("alert_id", "pathway_id", "territory", "rule", "severity", "title", "message",
                 "recipients", "due_at", "raised_at", "state", "acknowledged_by",
                 "acknowledged_at", "resolved_at")


class RupturesProjection:
    def __init__(self, delays: Delays | None = None, policy: Policy | None = None,
                 suffix: str = "") -> None:
        self.delays = delays or Delays()
        self.policy = policy or Policy()
        self.name = f"ruptures{suffix}"
        self.state_table, self.deadlines_table, self.alerts_table = (
            f"{STATE}{suffix}", f"{DEADLINES}{suffix}", f"{ALERTS}{suffix}")
        self.tables = (self.state_table, self.deadlines_table, self.alerts_table)

    def renamed(self, suffix: str) -> "RupturesProjection":
        return RupturesProjection(self.delays, self.policy, suffix)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.state_table} ("
                   "pathway_id TEXT PRIMARY KEY, state TEXT NOT NULL)")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.deadlines_table} ("
                   "dedup_key TEXT PRIMARY KEY, pathway_id TEXT NOT NULL, rule TEXT NOT NULL,"
                   " severity TEXT NOT NULL, due_at TEXT NOT NULL, title TEXT NOT NULL,"
                   " message TEXT NOT NULL, recipients TEXT NOT NULL, clearable INTEGER NOT NULL,"
                   " lapses_at TEXT, fired INTEGER NOT NULL)")
        columns = ", ".join(f"{c} TEXT" for c in ALERT_COLUMNS[1:])
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.alerts_table} "
                   f"(alert_id TEXT PRIMARY KEY, {columns})")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        payload = event.payload()
        state = self._state(tx, str(event.pathway_id), payload)
        if state is None:
            return
        _evolve(state, payload, event)
        tx.execute(f"INSERT INTO {self.state_table} (pathway_id, state) VALUES (:id, :state) "
                   "ON CONFLICT (pathway_id) DO UPDATE SET state = excluded.state",
                   {"id": state.pathway_id, "state": state.model_dump_json()})
        self._alerts(tx, state, payload, event)
        self._plan(tx, state)

    def _state(self, tx: Tx, pathway_id: str, payload: ev.Payload) -> FollowUpState | None:
        if isinstance(payload, ev.Referred):
            person = payload.person
            return FollowUpState(pathway_id=pathway_id, territory=payload.territory,
                                 person_label=f"{person.given_names} {person.family_name}")
        row = tx.one(f"SELECT state FROM {self.state_table} WHERE pathway_id = :id",
                     {"id": pathway_id})
        return FollowUpState.model_validate_json(row[0]) if row else None

    def _plan(self, tx: Tx, state: FollowUpState) -> None:
        """Keeps the pathway's pending deadlines equal to what the rules say now."""
        wanted = {d.dedup_key: d for d in deadlines(state, self.delays, self.policy)}
        rows = tx.execute(f"SELECT dedup_key, clearable, fired FROM {self.deadlines_table} "
                          "WHERE pathway_id = :id", {"id": state.pathway_id})
        for key, clearable, fired in rows:
            if key not in wanted and clearable and not fired:
                tx.execute(f"DELETE FROM {self.deadlines_table} WHERE dedup_key = :key",
                           {"key": key})
            wanted.pop(key, None)
        for deadline in wanted.values():
            tx.execute(
                f"INSERT INTO {self.deadlines_table} (dedup_key, pathway_id, rule, severity,"
                " due_at, title, message, recipients, clearable, lapses_at, fired) VALUES (:key,"
                " :id, :rule, :severity, :due_at, :title, :message, :recipients, :clearable,"
                " :lapses_at, 0)",
                _deadline_row(state.pathway_id, deadline))

    def _alerts(self, tx: Tx, state: FollowUpState, payload: ev.Payload,
                event: EventEnvelope) -> None:
        at = event.occurred_at.isoformat()
        match payload:
            case ev.AlertRaised():
                tx.execute(f"UPDATE {self.deadlines_table} SET fired = 1 WHERE dedup_key = :key",
                           {"key": payload.dedup_key})
                tx.execute(
                    f"INSERT INTO {self.alerts_table} ({', '.join(ALERT_COLUMNS)}) VALUES "
                    f"({', '.join(':' + c for c in ALERT_COLUMNS)}) "
                    "ON CONFLICT (alert_id) DO NOTHING",
                    {"alert_id": str(payload.alert_id), "pathway_id": state.pathway_id,
                     "territory": state.territory, "rule": payload.rule,
                     "severity": payload.severity, "title": payload.title,
                     "message": payload.message, "due_at": payload.due_at.isoformat(),
                     "recipients": json.dumps([r.model_dump() for r in payload.recipients]),
                     "raised_at": at, "state": "open", "acknowledged_by": None,
                     "acknowledged_at": None, "resolved_at": None})
            case ev.AlertAcknowledged():
                tx.execute(f"UPDATE {self.alerts_table} SET state = 'acknowledged',"
                           " acknowledged_by = :by, acknowledged_at = :at WHERE alert_id = :id",
                           {"by": event.actor.id, "at": at, "id": str(payload.alert_id)})
            case ev.AlertResolved():
                tx.execute(f"UPDATE {self.alerts_table} SET state = 'resolved', resolved_at = :at"
                           " WHERE alert_id = :id", {"at": at, "id": str(payload.alert_id)})


def _deadline_row(pathway_id: str, deadline: Deadline) -> dict[str, Any]:
    return {"key": deadline.dedup_key, "id": pathway_id, "rule": deadline.rule,
            "severity": deadline.severity, "due_at": deadline.due_at.isoformat(),
            "title": deadline.title, "message": deadline.message,
            "recipients": json.dumps([r.model_dump() for r in deadline.recipients]),
            "clearable": int(deadline.clearable),
            "lapses_at": deadline.lapses_at.isoformat() if deadline.lapses_at else None}


def _evolve(state: FollowUpState, payload: ev.Payload, event: EventEnvelope) -> None:
    """The follow-up state after one more event of the current episode."""
    match payload:
        case ev.Admitted():
            state.status, state.admitted_on = "active", payload.decided_on
        case ev.AdmissionRefused():
            state.status = "refused"
        case ev.CaseManagerAssigned():
            state.case_manager = values.Recipient(professional_id=payload.case_manager_id,
                                                  name=payload.case_manager_name,
                                                  role="case_manager")
        case ev.MemberJoined():
            joined = payload.member
            state.members.append(Member(member_id=joined.member_id, name=joined.name,
                                        role=joined.role, joined_on=payload.joined_on))
        case ev.MemberLeft():
            for member in state.members:
                if member.member_id == payload.member_id and member.left_on is None:
                    member.left_on = payload.left_on
        case ev.Hospitalised():
            state.stay_event_id, state.stay_since = str(event.event_id), payload.admitted_at
        case ev.Discharged():
            state.stay_event_id = state.stay_since = None
            state.discharge_event_id = str(event.event_id)
            state.discharged_at = payload.discharged_at
            state.discharged_home = payload.destination == "home"
            state.letter_received = payload.discharge_letter_received
        case ev.DischargeLetterReceived():
            state.letter_received = True
        case ev.Evaluated():
            state.last_evaluated_on = max(state.last_evaluated_on or payload.evaluated_on,
                                          payload.evaluated_on)
        case ev.PlanRevised():
            state.plan_revision, state.plan_revised_at = payload.revision, event.occurred_at
            state.plan_validated = False
        case ev.PlanValidated() if payload.revision == state.plan_revision:
            state.plan_validated = True
        case ev.FollowUpNoted() if state.case_manager and (
            event.actor.id == state.case_manager.professional_id
        ):
            state.last_manager_note_on = max(state.last_manager_note_on or payload.contact_on,
                                             payload.contact_on)
        case ev.Closed():
            state.status = "closed"
        case _:
            _evolve_hospital_feed(state, payload, event)


def _evolve_hospital_feed(state: FollowUpState, payload: ev.Payload,
                          event: EventEnvelope) -> None:
    """The cancellations only a hospital's ADT feed sends (services/hl7)."""
    match payload:
        case AdmissionCancelled():  # the stay never was: no rule runs on it any more
            state.stay_event_id = state.stay_since = None
        case DischargeCancelled():  # the stay goes on; the discharge's own rules clear
            state.stay_event_id, state.stay_since = str(event.event_id), payload.admitted_at
            state.discharge_event_id = state.discharged_at = None
            state.discharged_home, state.letter_received = False, True
