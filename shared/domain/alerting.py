"""A rupture alert's life in the pathway: raised once per occurrence, taken in hand, resolved
by a professional or by the facts that cleared it."""

from uuid import UUID

from shared import events as ev
from shared.domain.commands import SYSTEM, Meta
from shared.domain.errors import RuleBrokenError
from shared.domain.records import ENDED, Alert
from shared.domain.ruptures import CLEARABLE_RULES, INFORMATION_RULES
from shared.domain.state import PathwayState

ALERT_PAYLOADS = (ev.AlertRaised, ev.AlertAcknowledged, ev.AlertResolved)


class AlertLifecycle(PathwayState):
    def raise_alert(self, alert: ev.AlertRaised, meta: Meta, wanted: set[str]) -> bool:
        """Records the alert unless this occurrence already fired, or its condition cleared
        since the deadline was planned (``wanted``: the keys the rules call for now)."""
        if alert.dedup_key in self.fired_keys or self.status in ENDED:
            return False
        if alert.rule in CLEARABLE_RULES and alert.dedup_key not in wanted:
            return False
        self._record(alert, meta)
        return True

    def acknowledge_alert(self, alert_id: UUID, comment: str, meta: Meta) -> None:
        """Takes the alert in hand; an information alert (R1, R2) ends there."""
        alert = self._require_alert(alert_id)
        if alert.state != "open":
            raise RuleBrokenError("alert.not_open", "Cette alerte n'est plus ouverte.")
        self._record(ev.AlertAcknowledged(alert_id=alert_id, comment=comment), meta)
        if alert.raised.rule in INFORMATION_RULES:
            self._record(ev.AlertResolved(alert_id=alert_id, resolved_by=meta.actor.id,
                                          resolution="Information prise en compte."), meta)

    def resolve_alert(self, alert_id: UUID, comment: str, meta: Meta) -> None:
        """Closes an alert one has handled: acknowledged first, in the same call if need be."""
        alert = self._require_alert(alert_id)
        if alert.state == "resolved":
            raise RuleBrokenError("alert.already_resolved", "Cette alerte est déjà résolue.")
        if alert.state == "open":
            self.acknowledge_alert(alert_id, "", meta)
        if alert.state != "resolved":
            self._record(ev.AlertResolved(alert_id=alert_id, resolved_by=meta.actor.id,
                                          resolution=comment), meta)

    def resolve_cleared_alerts(self, wanted: set[str]) -> None:
        """Ends, in the journal, every alert whose condition the last facts cleared."""
        for alert in self.open_alerts():
            raised = alert.raised
            if raised.rule in CLEARABLE_RULES and raised.dedup_key not in wanted:
                self._record(ev.AlertResolved(
                    alert_id=raised.alert_id, resolved_by=SYSTEM.id,
                    cleared_by_event_id=self.last_fact_event_id,
                    resolution="Levée automatiquement : la situation a été régularisée.",
                ), Meta(actor=SYSTEM))

    def _require_alert(self, alert_id: UUID) -> Alert:
        self._require_not_ended()  # an ended episode's alerts end with it
        if alert_id not in self.alerts:
            raise RuleBrokenError("alert.unknown", "Alerte inconnue pour ce parcours.")
        return self.alerts[alert_id]

    def _when_alert(self, payload: ev.Payload, actor_id: str) -> None:
        match payload:
            case ev.AlertRaised():
                self.alerts[payload.alert_id] = Alert(payload)
                self.fired_keys.add(payload.dedup_key)
            case ev.AlertAcknowledged():
                self.alerts[payload.alert_id].state = "acknowledged"
                self.alerts[payload.alert_id].acknowledged_by = actor_id
            case ev.AlertResolved():
                self.alerts[payload.alert_id].state = "resolved"
                self.alerts[payload.alert_id].resolved_by = payload.resolved_by or actor_id
