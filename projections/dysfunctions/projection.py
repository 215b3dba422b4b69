"""One row per dysfunction report."""

from collections.abc import Sequence

from shared import events as ev
from shared.events import EventEnvelope
from shared.storage.sqldb import Tx

TABLE = "dysfunction_reports"


class DysfunctionsProjection:
    def __init__(self, suffix: str = "") -> None:
        self.name = f"dysfunctions{suffix}"
        self.table = f"{TABLE}{suffix}"
        self.tables = (self.table,)

    def renamed(self, suffix: str) -> "DysfunctionsProjection":
        return DysfunctionsProjection(suffix)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (event_id TEXT PRIMARY KEY,"
                   " pathway_id TEXT NOT NULL, territory TEXT NOT NULL, category TEXT NOT NULL,"
                   " description TEXT NOT NULL, reported_by TEXT NOT NULL,"
                   " reported_at TEXT NOT NULL)")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        self.apply_all(tx, [event])

    def apply_all(self, tx: Tx, events: Sequence[EventEnvelope]) -> None:
        kind = ev.DysfunctionReported.type_name()
        rows = []
        for event in events:
            if event.type != kind:
                continue
            report = ev.DysfunctionReported.model_validate(event.data)
            rows.append({"event_id": str(event.event_id), "pathway_id": event.pathway_key,
                         "territory": report.territory, "category": report.category,
                         "description": report.description, "reported_by": event.actor.id,
                         "reported_at": event.occurred_at.isoformat()})
        tx.execute_many(f"INSERT INTO {self.table} (event_id, pathway_id, territory, category,"
                        " description, reported_by, reported_at) VALUES (:event_id, :pathway_id,"
                        " :territory, :category, :description, :reported_by, :reported_at)", rows)
