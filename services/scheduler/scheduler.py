"""Fires the deadlines that fell due, as AlertRaised facts in the pathway's journal.

The journal refuses a de-duplication key it has already recorded, so firing again after a
crash, a restart or a replay records nothing new: an alert fires once per occurrence."""

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from projections.ruptures.projection import CLEARED, FIRED, LAPSED, PENDING, RupturesProjection
from shared import events as ev
from shared.domain.clock import Clock, system_clock
from shared.domain.errors import ConcurrentChangeError, PathwayError
from shared.events import values
from shared.journal.application import Journal
from shared.runtime.failpoints import failpoint
from shared.storage.sqldb import Database

log = logging.getLogger(__name__)
ALERT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:parcours:alert")
AT_ONCE_TRIGGERS = (ev.Hospitalised, ev.Discharged)
"""The facts whose alert (R1, R2) is due the moment they happened: the embedded mode runs its
scheduler as soon as one is recorded instead of at its next tick."""


def makes_due_at_once(events: Sequence[Any]) -> bool:
    """Whether one of these newly recorded events may make an alert due at once."""
    return any(isinstance(getattr(event, "data", None), AT_ONCE_TRIGGERS) for event in events)


def alert_id(dedup_key: str) -> UUID:
    return uuid5(ALERT_NAMESPACE, dedup_key)


class Scheduler:
    def __init__(self, db: Database, journal: Journal, projection: RupturesProjection,
                 clock: Clock = system_clock) -> None:
        self.db = db
        self.journal = journal
        self.table = projection.deadlines_table
        self.clock = clock

    def fire_due(self) -> int:
        """Fires every deadline due by the clock's now; returns how many alerts were raised."""
        now = self.clock().astimezone(UTC).isoformat()  # the deadlines are stored in UTC
        with self.db.transaction() as tx:
            tx.execute(f"UPDATE {self.table} SET outcome = '{LAPSED}' WHERE outcome = '{PENDING}'"
                       " AND lapses_at IS NOT NULL AND lapses_at <= :now", {"now": now})
            due = tx.execute(
                "SELECT dedup_key, pathway_id, rule, severity, due_at, title, message, recipients"
                f" FROM {self.table} WHERE outcome = '{PENDING}' AND due_at <= :now"
                " ORDER BY due_at",
                {"now": now},
            )
        raised = 0
        for key, pathway_id, rule, severity, due_at, title, message, recipients in due:
            alert = ev.AlertRaised(
                alert_id=alert_id(key), dedup_key=key, rule=rule, severity=severity,
                title=title, message=message, due_at=datetime.fromisoformat(due_at),
                recipients=[values.Recipient(**r) for r in json.loads(recipients)],
            )
            try:
                recorded = self._record(UUID(pathway_id), alert)
            except ConcurrentChangeError:
                continue  # someone wrote to the pathway meanwhile: next round
            raised += recorded
            failpoint("ruptures.after_raise")
            # Only a row still pending: the view may have applied the alert, or the fact that
            # cleared it, meanwhile. A cleared row is not tried again; the fact takes it away.
            with self.db.transaction() as tx:
                tx.execute(f"UPDATE {self.table} SET outcome = :outcome WHERE dedup_key = :key"
                           f" AND outcome = '{PENDING}'",
                           {"key": key, "outcome": FIRED if recorded else CLEARED})
        return raised

    def _record(self, pathway_id: UUID, alert: ev.AlertRaised) -> bool:
        """Whether the journal recorded it: not when it fired already, when its condition
        cleared, or when the journal refuses it for good (the deadline is given up)."""
        try:
            return self.journal.raise_alert(pathway_id, alert)
        except PathwayError as error:
            if isinstance(error, ConcurrentChangeError):
                raise
            log.warning("alert %s not raised: %s", alert.dedup_key, error)
            return False
