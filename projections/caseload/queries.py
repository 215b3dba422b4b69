"""Reads of the caseload view, for case managers and coordinators."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.caseload.projection import COLUMNS, REFERRAL_COLUMNS, REFERRALS, TABLE
from shared.storage.sqldb import Tx


@dataclass(frozen=True)
class ManagerLoad:
    case_manager_id: str
    case_manager_name: str
    active: int
    in_hospital: int
    evaluations_overdue: int
    plans_not_validated: int
    open_alerts: int


def _persons(tx: Tx, where: str, params: dict[str, Any], order: str) -> list[dict[str, Any]]:
    rows = tx.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE {where} ORDER BY {order}",
                      params)
    return [_readable(dict(zip(COLUMNS, row, strict=True))) for row in rows]


def _readable(person: dict[str, Any]) -> dict[str, Any]:
    """The row as readers want it: the criteria a list, the fold's state left inside."""
    person.pop("follow_up")
    person["criteria_not_met"] = [c for c in person["criteria_not_met"].split(",") if c]
    return person


def with_flags(person: dict[str, Any], today: date) -> dict[str, Any]:
    due = person["next_evaluation_due"]
    return {
        **person,
        "location": "hospital" if person["in_hospital_since"] else "home",
        "evaluation_overdue": bool(due and due < today.isoformat()),
        "plan_validated": bool(person["plan_validated"]),
    }


def persons_of(tx: Tx, case_manager_id: str, today: date) -> list[dict[str, Any]]:
    rows = _persons(tx, "status = 'active' AND case_manager_id = :manager",
                    {"manager": case_manager_id}, "person_name, pathway_id")
    return [with_flags(row, today) for row in rows]


def awaiting_decision(tx: Tx, territory: str | None = None) -> list[dict[str, Any]]:
    where = "status = 'awaiting_decision'" + (" AND territory = :t" if territory else "")
    return _persons(tx, where, {"t": territory}, "referred_on, pathway_id")


def waiting_for_place(tx: Tx, territory: str | None = None) -> list[dict[str, Any]]:
    where = ("status = 'active' AND case_manager_id IS NULL"
             + (" AND territory = :t" if territory else ""))
    return _persons(tx, where, {"t": territory}, "waiting_rank, pathway_id")


def manager_loads(tx: Tx, today: date, territory: str | None = None) -> list[ManagerLoad]:
    where = "status = 'active' AND case_manager_id IS NOT NULL"
    if territory:
        where += " AND territory = :t"
    rows = tx.execute(
        "SELECT case_manager_id, MAX(case_manager_name), COUNT(*),"
        " SUM(CASE WHEN in_hospital_since IS NULL THEN 0 ELSE 1 END),"
        " SUM(CASE WHEN next_evaluation_due < :today THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN plan_revision > 0 AND plan_validated = 0 THEN 1 ELSE 0 END),"
        f" SUM(open_alerts) FROM {TABLE} WHERE {where}"
        " GROUP BY case_manager_id ORDER BY case_manager_id",
        {"today": today.isoformat(), "t": territory},
    )
    return [ManagerLoad(r[0], r[1], *(int(v) for v in r[2:])) for r in rows]


def repeat_referrals(tx: Tx, territory: str) -> list[dict[str, Any]]:
    """Repeat referrals not yet resolved of the persons the territory follows now, oldest
    first: each with the name the sender typed and the file's (``person_name``)."""
    columns = ", ".join(f"r.{c}" for c in REFERRAL_COLUMNS if c != "person_name")
    rows = tx.execute(
        f"SELECT {columns}, r.person_name, p.person_name FROM {REFERRALS} r "
        f"JOIN {TABLE} p ON p.pathway_id = r.pathway_id WHERE r.kind = 'repeat' "
        "AND r.outcome IS NULL AND p.territory = :t ORDER BY r.received_at, r.referral_id",
        {"t": territory})
    names = [*(c for c in REFERRAL_COLUMNS if c != "person_name"), "submitted_name",
             "person_name"]
    return [dict(zip(names, row, strict=True)) for row in rows]


def referrals_sent(tx: Tx, sender_id: str) -> list[dict[str, Any]]:
    """Every referral a professional sent, the latest first, as they sent it."""
    rows = tx.execute(f"SELECT {', '.join(REFERRAL_COLUMNS)} FROM {REFERRALS} "
                      "WHERE sender_id = :s ORDER BY received_at DESC, referral_id",
                      {"s": sender_id})
    return [dict(zip(REFERRAL_COLUMNS, row, strict=True)) for row in rows]
