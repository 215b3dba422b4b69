"""Caseload: one row per pathway, what a case manager and a coordinator need to see at once."""

from datetime import date
from typing import Any

from shared import events as ev
from shared.events import EventEnvelope
from shared.events.payloads import AdmissionCancelled, DischargeCancelled, TransferCancelled
from shared.pathway.commands import Policy
from shared.sqldb import Tx

TABLE = "caseload_persons"

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
}

NEW_EPISODE = {
    "status": "awaiting_decision", "admitted_on": None, "case_manager_id": None,
    "case_manager_name": None, "waiting_rank": None, "in_hospital_since": None,
    "establishment": None, "last_evaluated_on": None, "discharged_home_on": None,
    "next_evaluation_due": None, "last_contact_on": None, "plan_revision": 0,
    "plan_validated": 0, "open_alerts": 0,
}


class CaseloadProjection:
    """``suffix`` names a second set of tables, for a replay beside the live ones."""

    def __init__(self, policy: Policy | None = None, suffix: str = "") -> None:
        self.policy = policy or Policy()
        self.name = f"caseload{suffix}"
        self.table = f"{TABLE}{suffix}"
        self.tables = (self.table,)

    def renamed(self, suffix: str) -> "CaseloadProjection":
        return CaseloadProjection(self.policy, suffix)

    def create_tables(self, tx: Tx) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        pathway_id = str(event.pathway_id)
        payload = event.payload()
        row = self._row(tx, pathway_id)
        if isinstance(payload, ev.Referred):
            person = payload.person
            row = {**(row or {"episode": 0}), **NEW_EPISODE,
                   "pathway_id": pathway_id, "episode": (row or {"episode": 0})["episode"] + 1,
                   "person_name": f"{person.family_name.upper()} {person.given_names}",
                   "commune": person.commune, "territory": payload.territory,
                   "referred_on": payload.referred_on.isoformat(),
                   "events_applied": (row or {}).get("events_applied", 0)}
        elif row is None:
            raise LookupError(f"caseload: {event.type} before any referral for {pathway_id}")
        else:
            row.update(self._changes(row, payload))
        row.update(last_event_at=event.occurred_at.isoformat(), version=event.stream_version,
                   events_applied=row["events_applied"] + 1)
        row["next_evaluation_due"] = self._next_evaluation(row)
        self._save(tx, row)

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
            case ev.Evaluated():
                return {"last_evaluated_on": payload.evaluated_on.isoformat()}
            case ev.PlanRevised():
                return {"plan_revision": payload.revision}
            case ev.PlanValidated() if payload.revision == row["plan_revision"]:
                return {"plan_validated": 1}
            case ev.Hospitalised():
                return {"in_hospital_since": payload.admitted_at.isoformat(),
                        "establishment": payload.establishment}
            case ev.StayTransferred():
                return {"establishment": payload.establishment}
            case ev.Discharged():
                home = payload.discharged_at.date().isoformat() \
                    if payload.destination == "home" else None
                return {"in_hospital_since": None, "establishment": None,
                        "discharged_home_on": home}
            case ev.FollowUpNoted():
                last = row["last_contact_on"]
                on = payload.contact_on.isoformat()
                return {"last_contact_on": max(last, on) if last else on}
            case ev.AlertRaised():
                return {"open_alerts": row["open_alerts"] + 1}
            case ev.AlertResolved():
                return {"open_alerts": max(0, row["open_alerts"] - 1)}
            case ev.Closed():
                return {"status": "closed", "in_hospital_since": None, "establishment": None,
                        "waiting_rank": None, "open_alerts": 0}
            case AdmissionCancelled():  # from a hospital's ADT feed: the stay never was
                return {"in_hospital_since": None, "establishment": None}
            case TransferCancelled():
                return {"establishment": payload.establishment}
            case DischargeCancelled():  # the stay goes on
                return {"in_hospital_since": payload.admitted_at.isoformat(),
                        "establishment": payload.establishment, "discharged_home_on": None}
        return {}

    def _next_evaluation(self, row: dict[str, Any]) -> str | None:
        if row["status"] != "active" or not row["admitted_on"]:
            return None
        due = self.policy.next_evaluation_due(
            date.fromisoformat(row["admitted_on"]), _day(row["last_evaluated_on"]),
            _day(row["discharged_home_on"]),
        )
        return due.isoformat()

    def _row(self, tx: Tx, pathway_id: str) -> dict[str, Any] | None:
        found = tx.one(f"SELECT {', '.join(COLUMNS)} FROM {self.table} "
                       "WHERE pathway_id = :pathway_id", {"pathway_id": pathway_id})
        return dict(zip(COLUMNS, found, strict=True)) if found else None

    def _save(self, tx: Tx, row: dict[str, Any]) -> None:
        names = ", ".join(COLUMNS)
        values = ", ".join(f":{c}" for c in COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "pathway_id")
        tx.execute(f"INSERT INTO {self.table} ({names}) VALUES ({values}) "
                   f"ON CONFLICT (pathway_id) DO UPDATE SET {updates}", row)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
