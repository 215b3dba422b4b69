"""Intake: turns each AlertRaised into one delivery per recipient and chosen channel.

Written as a ``shared.streaming.projecting.Projection``: ``apply_batch`` commits the deliveries
and the consumed offsets (Kafka, or journal positions when embedded) in one transaction, so a crash
never loses an alert nor takes it in twice. Copies the relay may publish at a new offset are
dropped by the stream version check of ``apply_batch`` and, whatever their version, by the
alert id: an alert already known adds nothing."""


from services.notifications import store
from services.notifications.preferences import DEFAULT
from shared.domain.clock import Clock
from shared.events import AlertRaised, EventEnvelope
from shared.storage.migrations import apply_pending
from shared.storage.sqldb import Tx

RAISED, ACKNOWLEDGED, RESOLVED = "AlertRaised", "AlertAcknowledged", "AlertResolved"


class NotificationsProjection:
    """AlertRaised → deliveries. AlertResolved cancels the webhook and e-mail deliveries still
    waiting for a retry (the alert needs no action any more); AlertAcknowledged only marks the
    alert: the other recipients still need to hear of it."""

    name = "notifications"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def create_tables(self, tx: Tx) -> None:
        # The deliveries cannot be rebuilt: their tables are numbered migrations, not the
        # projection's own.
        apply_pending(tx)

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        # In the embedded mode every pathway event comes here: look at the type first.
        if event.type == RAISED:
            payload = event.payload()
            assert isinstance(payload, AlertRaised)
            self._raised(tx, event, payload)
        elif event.type == ACKNOWLEDGED:
            store.set_alert_status(tx, str(event.data["alert_id"]), "acknowledged",
                                   self.clock())
        elif event.type == RESOLVED:
            alert_id = str(event.data["alert_id"])
            now = self.clock()
            if store.set_alert_status(tx, alert_id, "resolved", now):
                store.cancel_pending(tx, alert_id, now, "alerte résolue avant l'envoi")

    def _raised(self, tx: Tx, event: EventEnvelope, alert: AlertRaised) -> None:
        alert_id = str(alert.alert_id)
        is_new = store.insert_alert(tx, store.Alert(
            alert_id=alert_id, pathway_id=str(event.pathway_id), event_id=str(event.event_id),
            rule=alert.rule, severity=alert.severity, title=alert.title,
            message=alert.message, due_at=store.iso(alert.due_at),
            raised_at=store.iso(event.occurred_at), status="open",
        ))
        if not is_new:
            return
        now = self.clock()
        for recipient in alert.recipients:
            preferences = store.get_preferences(tx, recipient.professional_id) or DEFAULT
            for channel in preferences.ordered_channels():
                # The stream is the store itself: the row is readable as soon as it commits.
                status = "sent" if channel == "sse" else "pending"
                delivery_id = store.insert_delivery(
                    tx, alert_id, recipient.professional_id, recipient.name, recipient.role,
                    channel, preferences.destination(channel), status, now,
                )
                if delivery_id is not None and channel == "sse":
                    store.add_log(tx, delivery_id, now, "published")
