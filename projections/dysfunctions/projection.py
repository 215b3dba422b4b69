"""One row per dysfunction report."""

from shared import events as ev
from shared.events import EventEnvelope
from shared.sqldb import Tx

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
        if event.type != ev.DysfunctionReported.type_name():
            return
        report = ev.DysfunctionReported.model_validate(event.data)
        tx.execute(f"INSERT INTO {self.table} (event_id, pathway_id, territory, category,"
                   " description, reported_by, reported_at) VALUES (:event_id, :pathway_id,"
                   " :territory, :category, :description, :reported_by, :reported_at)",
                   {"event_id": str(event.event_id), "pathway_id": str(event.pathway_id),
                    "territory": report.territory, "category": report.category,
                    "description": report.description, "reported_by": event.actor.id,
                    "reported_at": event.occurred_at.isoformat()})
