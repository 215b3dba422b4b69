"""The ruptures view: each pathway's follow-up state, its pending deadlines, and the alerts
raised, acknowledged and resolved."""

import json
from typing import Any

from shared import events as ev
from shared.events import EventEnvelope
from shared.pathway.commands import Delays, Policy
from shared.pathway.followup import FollowUpState, begin, evolve
from shared.pathway.ruptures import Deadline, deadlines
from shared.sqldb import Tx

STATE, DEADLINES, ALERTS = "rupture_state", "rupture_deadlines", "alerts"
PENDING, FIRED, LAPSED = "pending", "fired", "lapsed"
"""What became of a deadline: waiting for its moment, fired as an alert, or lapsed (an
at-once alert found too late to be worth telling)."""

ALERT_COLUMNS = ("alert_id", "pathway_id", "territory", "rule", "severity", "title", "message",
                 "recipients", "due_at", "raised_at", "state", "acknowledged_by",
                 "acknowledged_at", "resolved_at", "resolved_by", "resolution",
                 "cleared_by_event_id")


class RupturesProjection:
    schema_version = 2  # v2: alerts say who resolved them, how, and which event cleared them

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
                   " lapses_at TEXT, outcome TEXT NOT NULL)")
        columns = ", ".join(f"{c} TEXT" for c in ALERT_COLUMNS[1:])
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.alerts_table} "
                   f"(alert_id TEXT PRIMARY KEY, {columns})")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        payload = event.payload()
        state = self._state(tx, str(event.pathway_id), payload)
        if state is None:
            return
        if not isinstance(payload, ev.Referred):
            evolve(state, payload, event.event_id, event.occurred_at, event.actor.id)
        tx.execute(f"INSERT INTO {self.state_table} (pathway_id, state) VALUES (:id, :state) "
                   "ON CONFLICT (pathway_id) DO UPDATE SET state = excluded.state",
                   {"id": state.pathway_id, "state": state.model_dump_json()})
        self._alerts(tx, state, payload, event)
        self._plan(tx, state)

    def _state(self, tx: Tx, pathway_id: str, payload: ev.Payload) -> FollowUpState | None:
        if isinstance(payload, ev.Referred):
            return begin(pathway_id, payload)
        row = tx.one(f"SELECT state FROM {self.state_table} WHERE pathway_id = :id",
                     {"id": pathway_id})
        return FollowUpState.model_validate_json(row[0]) if row else None

    def _plan(self, tx: Tx, state: FollowUpState) -> None:
        """Keeps the pathway's pending deadlines equal to what the rules say now."""
        wanted = {d.dedup_key: d for d in deadlines(state, self.delays, self.policy)}
        rows = tx.execute(f"SELECT dedup_key, clearable, outcome FROM {self.deadlines_table} "
                          "WHERE pathway_id = :id", {"id": state.pathway_id})
        for key, clearable, outcome in rows:
            if key not in wanted and clearable and outcome == PENDING:
                tx.execute(f"DELETE FROM {self.deadlines_table} WHERE dedup_key = :key",
                           {"key": key})
            wanted.pop(key, None)
        for deadline in wanted.values():
            tx.execute(
                f"INSERT INTO {self.deadlines_table} (dedup_key, pathway_id, rule, severity,"
                " due_at, title, message, recipients, clearable, lapses_at, outcome) VALUES (:key,"
                " :id, :rule, :severity, :due_at, :title, :message, :recipients, :clearable,"
                f" :lapses_at, '{PENDING}')",
                _deadline_row(state.pathway_id, deadline))

    def _alerts(self, tx: Tx, state: FollowUpState, payload: ev.Payload,
                event: EventEnvelope) -> None:
        at = event.occurred_at.isoformat()
        match payload:
            case ev.AlertRaised():
                tx.execute(f"UPDATE {self.deadlines_table} SET outcome = '{FIRED}'"
                           " WHERE dedup_key = :key", {"key": payload.dedup_key})
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
                     "acknowledged_at": None, "resolved_at": None, "resolved_by": None,
                     "resolution": None, "cleared_by_event_id": None})
            case ev.AlertAcknowledged():
                tx.execute(f"UPDATE {self.alerts_table} SET state = 'acknowledged',"
                           " acknowledged_by = :by, acknowledged_at = :at WHERE alert_id = :id",
                           {"by": event.actor.id, "at": at, "id": str(payload.alert_id)})
            case ev.AlertResolved():
                cleared_by = payload.cleared_by_event_id
                tx.execute(f"UPDATE {self.alerts_table} SET state = 'resolved', resolved_at = :at,"
                           " resolved_by = :by, resolution = :resolution,"
                           " cleared_by_event_id = :cleared WHERE alert_id = :id",
                           {"at": at, "id": str(payload.alert_id),
                            "by": payload.resolved_by or event.actor.id,
                            "resolution": payload.resolution,
                            "cleared": str(cleared_by) if cleared_by else None})


def _deadline_row(pathway_id: str, deadline: Deadline) -> dict[str, Any]:
    return {"key": deadline.dedup_key, "id": pathway_id, "rule": deadline.rule,
            "severity": deadline.severity, "due_at": deadline.due_at.isoformat(),
            "title": deadline.title, "message": deadline.message,
            "recipients": json.dumps([r.model_dump() for r in deadline.recipients]),
            "clearable": int(deadline.clearable),
            "lapses_at": deadline.lapses_at.isoformat() if deadline.lapses_at else None}
