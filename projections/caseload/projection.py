"""Caseload: one row per pathway, enough to list each case manager's active persons."""

from dataclasses import dataclass

from shared import events as ev
from shared.events import EventEnvelope
from shared.sqldb import Tx

DDL = """CREATE TABLE IF NOT EXISTS caseload_persons (
    pathway_id TEXT PRIMARY KEY,
    person_name TEXT NOT NULL,
    commune TEXT NOT NULL,
    status TEXT NOT NULL,
    episode INTEGER NOT NULL,
    referred_on TEXT NOT NULL,
    case_manager_id TEXT,
    case_manager_name TEXT,
    in_hospital_since TEXT,
    last_event_at TEXT NOT NULL,
    events_applied INTEGER NOT NULL,
    version INTEGER NOT NULL)"""


class CaseloadProjection:
    name = "caseload"

    def create_tables(self, tx: Tx) -> None:
        tx.execute(DDL)

    def apply(self, tx: Tx, event: EventEnvelope) -> None:
        key = {"pathway_id": str(event.pathway_id)}
        payload = event.payload()
        if isinstance(payload, ev.Referred):
            person = payload.person
            tx.execute(
                "INSERT INTO caseload_persons (pathway_id, person_name, commune, status, episode,"
                " referred_on, last_event_at, events_applied, version) VALUES (:pathway_id,"
                " :person_name, :commune, 'awaiting_decision', 1, :referred_on, '', 0, 0)"
                " ON CONFLICT (pathway_id) DO UPDATE SET status = 'awaiting_decision',"
                " episode = caseload_persons.episode + 1, referred_on = excluded.referred_on,"
                " person_name = excluded.person_name, commune = excluded.commune,"
                " case_manager_id = NULL, case_manager_name = NULL, in_hospital_since = NULL",
                {**key, "person_name": f"{person.family_name.upper()} {person.given_names}",
                 "commune": person.commune, "referred_on": payload.referred_on.isoformat()},
            )
        elif change := _CHANGES.get(type(payload)):
            tx.execute(f"UPDATE caseload_persons SET {change} WHERE pathway_id = :pathway_id",
                       {**key, **_values(payload)})
        tx.execute(
            "UPDATE caseload_persons SET events_applied = events_applied + 1,"
            " version = :version, last_event_at = :at WHERE pathway_id = :pathway_id",
            {**key, "version": event.stream_version, "at": event.occurred_at.isoformat()},
        )


_CHANGES: dict[type[ev.Payload], str] = {
    ev.Admitted: "status = 'active'",
    ev.AdmissionRefused: "status = 'refused'",
    ev.CaseManagerAssigned: "case_manager_id = :manager_id, case_manager_name = :manager_name",
    ev.Hospitalised: "in_hospital_since = :since",
    ev.Discharged: "in_hospital_since = NULL",
    ev.Closed: "status = 'closed', in_hospital_since = NULL",
}


def _values(payload: ev.Payload) -> dict[str, object]:
    match payload:
        case ev.CaseManagerAssigned():
            return {"manager_id": payload.case_manager_id,
                    "manager_name": payload.case_manager_name}
        case ev.Hospitalised():
            return {"since": payload.admitted_at.isoformat()}
    return {}


# -- queries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ManagerLoad:
    case_manager_id: str
    case_manager_name: str
    active: int
    in_hospital: int


@dataclass(frozen=True)
class PersonRow:
    pathway_id: str
    person_name: str
    commune: str
    status: str
    case_manager_id: str | None
    in_hospital_since: str | None
    referred_on: str
    last_event_at: str
    events_applied: int
    version: int


_PERSON_COLUMNS = (
    "pathway_id, person_name, commune, status, case_manager_id, in_hospital_since,"
    " referred_on, last_event_at, events_applied, version"
)


def manager_loads(tx: Tx) -> list[ManagerLoad]:
    rows = tx.execute(
        "SELECT case_manager_id, MAX(case_manager_name), COUNT(*),"
        " SUM(CASE WHEN in_hospital_since IS NULL THEN 0 ELSE 1 END)"
        " FROM caseload_persons WHERE status = 'active' AND case_manager_id IS NOT NULL"
        " GROUP BY case_manager_id ORDER BY case_manager_id"
    )
    return [ManagerLoad(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def persons_of(tx: Tx, case_manager_id: str) -> list[PersonRow]:
    rows = tx.execute(
        f"SELECT {_PERSON_COLUMNS} FROM caseload_persons WHERE status = 'active'"
        " AND case_manager_id = :manager ORDER BY person_name, pathway_id",
        {"manager": case_manager_id},
    )
    return [PersonRow(*r) for r in rows]


def awaiting_decision(tx: Tx) -> list[PersonRow]:
    rows = tx.execute(
        f"SELECT {_PERSON_COLUMNS} FROM caseload_persons WHERE status = 'awaiting_decision'"
        " ORDER BY referred_on, pathway_id"
    )
    return [PersonRow(*r) for r in rows]


def person(tx: Tx, pathway_id: str) -> PersonRow | None:
    row = tx.one(f"SELECT {_PERSON_COLUMNS} FROM caseload_persons"
                 " WHERE pathway_id = :pathway_id", {"pathway_id": pathway_id})
    return PersonRow(*row) if row else None
