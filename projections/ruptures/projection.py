"""The ruptures view: each pathway's follow-up state, its pending deadlines, and the alerts
raised, acknowledged and resolved."""

import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import groupby
from typing import Any

from shared import events as ev
from shared.domain.commands import Delays, Policy
from shared.domain.followup import FollowUpState, begin, evolve
from shared.domain.ruptures import Deadline, deadlines
from shared.events import EventEnvelope
from shared.events.values import Recipient
from shared.storage.sqldb import Tx, select_in

STATE, DEADLINES, ALERTS = "rupture_state", "rupture_deadlines", "alerts"
PENDING, FIRED, LAPSED, CLEARED = "pending", "fired", "lapsed", "cleared"
"""What became of a deadline: waiting for its moment, fired as an alert, lapsed (an at-once
alert found too late to be worth telling), or cleared: the journal refused to raise it because
its condition had cleared in a fact this view had not applied yet; applying that fact takes
the row away, as a rebuild would never have planned it."""
OPEN_OUTCOMES = (PENDING, CLEARED)
"""Outcomes a fact that clears the condition still takes away."""

ALERT_COLUMNS = ("alert_id", "pathway_id", "territory", "rule", "severity", "title", "message",
                 "recipients", "due_at", "raised_at", "state", "acknowledged_by",
                 "acknowledged_at", "resolved_at", "resolved_by", "resolution",
                 "cleared_by_event_id")


@dataclass
class _Deadline:
    clearable: bool
    outcome: str
    stored: bool = False
    due_at: str | None = None
    lapses_at: str | None = None


@dataclass
class _Batch:
    """What a batch changes, kept in memory until its one write."""

    stored_states: dict[str, str]
    deadlines: dict[str, dict[str, _Deadline]]
    states: dict[str, FollowUpState] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    new_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)
    alert_changes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def state(self, pathway_id: str) -> FollowUpState | None:
        if pathway_id not in self.states and pathway_id in self.stored_states:
            self.states[pathway_id] = FollowUpState.model_validate_json(
                self.stored_states[pathway_id])
        return self.states.get(pathway_id)


class RupturesProjection:
    schema_version = 3
    """v2: alerts say who resolved them, how, and which event cleared them; v3: deadlines'
    moments in UTC, so that comparing their text with the scheduler's now compares moments."""

    def __init__(self, delays: Delays | None = None, policy: Policy | None = None,
                 suffix: str = "") -> None:
        self.delays = delays or Delays()
        self.policy = policy or Policy()
        self.name = f"ruptures{suffix}"
        self.state_table, self.deadlines_table, self.alerts_table = (
            f"{STATE}{suffix}", f"{DEADLINES}{suffix}", f"{ALERTS}{suffix}")
        self.tables = (self.state_table, self.deadlines_table, self.alerts_table)
        self.due_now = threading.Event()
        """Set once a batch that planned a deadline already due (R1, R2: a stay, a discharge
        without a visit) is committed: the scheduler fires it then, not at its next tick."""
        self._planned_due = False

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
        # Every lookup of the projection and the scheduler has its index: without them each
        # batch and each tick reads the whole table, which grows with the log.
        for name, table, columns in (
                ("by_pathway", self.deadlines_table, "pathway_id"),
                ("due", self.deadlines_table, "outcome, due_at"),
                ("lapsing", self.deadlines_table, "outcome, lapses_at"),
                ("by_pathway", self.alerts_table, "pathway_id, raised_at")):
            tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_{name} ON {table} ({columns})")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        self.apply_all(tx, [event])

    def apply_all(self, tx: Tx, events: Sequence[EventEnvelope]) -> None:
        """One read of the states and deadlines of the batch's pathways, the fold and the
        deadline plans in memory, then one multi-row write per kind of change."""
        self._planned_due = False
        batch = _Batch(self._states(tx, events), self._deadlines(tx, events))
        for event in events:
            payload = event.payload()
            pathway_id = event.pathway_key
            if isinstance(payload, ev.Referred):
                batch.states[pathway_id] = begin(pathway_id, payload)
            known = batch.state(pathway_id)
            if known is None:
                continue  # events of a pathway referred before this view existed
            state = known
            if not isinstance(payload, ev.Referred):
                evolve(state, payload, event.event_id, event.occurred_at, event.actor.id)
            batch.touched.add(pathway_id)
            self._alerts(batch, state, payload, event)
            self._plan(batch, state)
        self._write(tx, batch)
        now = datetime.now(UTC).isoformat()
        self._planned_due = any(row["due_at"] <= now for row in batch.new_rows.values())

    def after_commit(self) -> None:
        """Called by ``apply_batch`` once the batch is committed."""
        if self._planned_due:
            self._planned_due = False
            self.due_now.set()

    def _states(self, tx: Tx, events: Sequence[EventEnvelope]) -> dict[str, str]:
        ids = {e.pathway_key for e in events if e.type != ev.Referred.type_name()}
        rows = select_in(tx, f"SELECT pathway_id, state FROM {self.state_table}"
                         " WHERE pathway_id IN ({in})", ids)
        return {pathway_id: state for pathway_id, state in rows}

    def _deadlines(self, tx: Tx, events: Sequence[EventEnvelope]
                   ) -> dict[str, dict[str, _Deadline]]:
        """Each pathway's deadlines by key (the index on pathway_id makes this cheap)."""
        rows = select_in(tx, f"SELECT dedup_key, pathway_id, clearable, outcome, due_at,"
                         f" lapses_at FROM {self.deadlines_table} WHERE pathway_id IN ({{in}})",
                         {e.pathway_key for e in events})
        by_pathway: dict[str, dict[str, _Deadline]] = defaultdict(dict)
        for key, pathway_id, clearable, outcome, due_at, lapses_at in rows:
            by_pathway[pathway_id][key] = _Deadline(bool(clearable), outcome, True, due_at,
                                                    lapses_at)
        return by_pathway

    def _plan(self, batch: _Batch, state: FollowUpState) -> None:
        """Keeps the pathway's pending deadlines equal to what the rules say now."""
        wanted = {d.dedup_key: d for d in deadlines(state, self.delays, self.policy)}
        planned = batch.deadlines[state.pathway_id]
        for key, known in list(planned.items()):
            if key not in wanted and known.clearable and known.outcome in OPEN_OUTCOMES:
                del planned[key]
                batch.new_rows.pop(key, None)
                if known.stored:
                    batch.deleted.add(key)
            elif key in wanted and known.outcome == PENDING and _moved(known, wanted[key]):
                # A hospital corrected the date it counts from: planned again, same key.
                if known.stored:
                    batch.deleted.add(key)
                continue
            wanted.pop(key, None)
        for key, deadline in wanted.items():
            row = _deadline_row(state.pathway_id, deadline)
            planned[key] = _Deadline(deadline.clearable, PENDING, False, row["due_at"],
                                     row["lapses_at"])
            batch.new_rows[key] = row

    def _alerts(self, batch: _Batch, state: FollowUpState, payload: ev.Payload,
                event: EventEnvelope) -> None:
        at = event.occurred_at.isoformat()
        match payload:
            case ev.AlertRaised():
                batch.fired.add(payload.dedup_key)
                if (known := batch.deadlines[state.pathway_id].get(payload.dedup_key)):
                    known.outcome = FIRED
                batch.alert_changes.append((
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
                     "resolution": None, "cleared_by_event_id": None}))
            case ev.AlertAcknowledged():
                batch.alert_changes.append((
                    f"UPDATE {self.alerts_table} SET state = 'acknowledged',"
                    " acknowledged_by = :by, acknowledged_at = :at WHERE alert_id = :id",
                    {"by": event.actor.id, "at": at, "id": str(payload.alert_id)}))
            case ev.AlertResolved():
                cleared_by = payload.cleared_by_event_id
                batch.alert_changes.append((
                    f"UPDATE {self.alerts_table} SET state = 'resolved', resolved_at = :at,"
                    " resolved_by = :by, resolution = :resolution,"
                    " cleared_by_event_id = :cleared WHERE alert_id = :id",
                    {"at": at, "id": str(payload.alert_id),
                     "by": payload.resolved_by or event.actor.id,
                     "resolution": payload.resolution,
                     "cleared": str(cleared_by) if cleared_by else None}))

    def _write(self, tx: Tx, batch: _Batch) -> None:
        tx.execute_many(
            f"INSERT INTO {self.state_table} (pathway_id, state) VALUES (:id, :state) "
            "ON CONFLICT (pathway_id) DO UPDATE SET state = excluded.state",
            [{"id": pathway_id, "state": batch.states[pathway_id].model_dump_json()}
             for pathway_id in sorted(batch.touched)])
        select_in(tx, f"DELETE FROM {self.deadlines_table} WHERE dedup_key IN ({{in}})",
                  batch.deleted)
        tx.execute_many(
            f"INSERT INTO {self.deadlines_table} (dedup_key, pathway_id, rule, severity,"
            " due_at, title, message, recipients, clearable, lapses_at, outcome) VALUES (:key,"
            " :id, :rule, :severity, :due_at, :title, :message, :recipients, :clearable,"
            f" :lapses_at, '{PENDING}')", list(batch.new_rows.values()))
        # After the inserts: a deadline planned and fired in the same batch ends fired.
        select_in(tx, f"UPDATE {self.deadlines_table} SET outcome = '{FIRED}'"
                  " WHERE dedup_key IN ({in})", batch.fired)
        # In their order (raised, then acknowledged, then resolved), same statements together.
        for sql, group in groupby(batch.alert_changes, key=lambda change: change[0]):
            tx.execute_many(sql, [params for _, params in group])


def _moved(known: _Deadline, wanted: Deadline) -> bool:
    return (known.due_at, known.lapses_at) != (_utc(wanted.due_at), _utc(wanted.lapses_at))


def _utc(moment: datetime | None) -> str | None:
    """A rule dates a deadline in the territory's zone (a start of day in Paris is +01:00 or
    +02:00); stored in UTC, its text sorts as the moment does."""
    return moment.astimezone(UTC).isoformat() if moment else None


def _deadline_row(pathway_id: str, deadline: Deadline) -> dict[str, Any]:
    return {"key": deadline.dedup_key, "id": pathway_id, "rule": deadline.rule,
            "severity": deadline.severity, "due_at": _utc(deadline.due_at),
            "title": deadline.title, "message": deadline.message,
            "recipients": _recipients_json(deadline.recipients),
            "clearable": int(deadline.clearable),
            "lapses_at": _utc(deadline.lapses_at)}


@lru_cache(maxsize=4096)
def _recipients_json(recipients: tuple[Recipient, ...]) -> str:
    # The same few circles recur on every deadline of a pathway: serialised once each.
    return json.dumps([r.model_dump() for r in recipients])
