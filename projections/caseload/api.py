"""Reads of the caseload view."""

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from projections.caseload import queries as q
from shared.http import JournalDep, ViewsDep

router = APIRouter(prefix="/caseload", tags=["file active"])
Today = Annotated[date | None, Query(description="Date de référence (aujourd'hui sinon)")]


def _today(day: date | None) -> date:
    return day or datetime.now(UTC).date()


@router.get("")
def loads(views: ViewsDep, today: Today = None) -> dict[str, object]:
    """Each case manager's load, and how many referrals await a decision."""
    with views.transaction() as tx:
        managers = q.manager_loads(tx, _today(today))
        waiting = q.awaiting_decision(tx)
    return {"case_managers": [asdict(m) for m in managers], "awaiting_decision": len(waiting)}


@router.get("/territories/{territory}")
def coordination(territory: str, views: ViewsDep, journal: JournalDep,
                 today: Today = None) -> dict[str, Any]:
    """For the coordinator: every manager's load and free places, the waiting list in rank
    order, and the referrals awaiting a decision."""
    board = journal.territory(territory)
    with views.transaction() as tx:
        loads = {m.case_manager_id: asdict(m) for m in q.manager_loads(tx, _today(today),
                                                                      territory)}
        waiting = q.waiting_for_place(tx, territory)
        awaiting = q.awaiting_decision(tx, territory)
    managers = []
    for manager_id in sorted(board.managers):
        name, capacity = board.managers[manager_id]
        load = loads.get(manager_id, {"active": 0, "in_hospital": 0, "evaluations_overdue": 0,
                                      "plans_not_validated": 0, "open_alerts": 0})
        managers.append({**load, "case_manager_id": manager_id, "case_manager_name": name,
                         "capacity": capacity, "free_places": board.free_places(manager_id)})
    return {"case_managers": managers, "waiting_list": waiting, "awaiting_decision": awaiting}


@router.get("/awaiting-decision")
def awaiting(views: ViewsDep) -> list[dict[str, Any]]:
    """Referrals waiting for the team's decision, oldest first."""
    with views.transaction() as tx:
        return q.awaiting_decision(tx)


@router.get("/{case_manager_id}")
def persons(case_manager_id: str, views: ViewsDep, today: Today = None) -> list[dict[str, Any]]:
    """The persons one case manager follows: where they are, evaluations due, last contact,
    plan validation and open alerts."""
    with views.transaction() as tx:
        return q.persons_of(tx, case_manager_id, _today(today))
