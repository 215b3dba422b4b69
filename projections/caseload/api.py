"""Reads of the caseload view."""

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from projections.caseload import queries as q
from shared.api.http import (
    Authenticated,
    JournalDep,
    PrincipalDep,
    TodayDep,
    ViewsDep,
    forbid_unless,
    scoped_territory,
)
from shared.domain import access

router = APIRouter(prefix="/caseload", tags=["file active"], dependencies=[Authenticated])
Today = Annotated[date | None, Query(description="Date de référence (aujourd'hui sinon)")]


@router.get("")
def loads(views: ViewsDep, principal: PrincipalDep, now: TodayDep,
          today: Today = None, territory: str | None = None) -> dict[str, object]:
    """Each case manager's load, and how many referrals await a decision (counts only)."""
    territory = scoped_territory(principal, territory, analysts=True)
    with views.transaction() as tx:
        managers = q.manager_loads(tx, today or now, territory)
        waiting = q.awaiting_decision(tx, territory)
    return {"case_managers": [asdict(m) for m in managers], "awaiting_decision": len(waiting)}


@router.get("/territories/{territory}")
def coordination(territory: str, views: ViewsDep, journal: JournalDep,
                 principal: PrincipalDep, now: TodayDep, today: Today = None) -> dict[str, Any]:
    """For the coordinator: every manager's load and free places, the waiting list in rank
    order, the referrals awaiting a decision, and the repeat referrals to resolve (a person
    already followed, or an INS known with other traits)."""
    forbid_unless(access.coordinates(principal, territory), "voir la file active du territoire")
    today = today or now
    board = journal.territory(territory)
    with views.transaction() as tx:
        loads = {m.case_manager_id: asdict(m) for m in q.manager_loads(tx, today, territory)}
        waiting = q.waiting_for_place(tx, territory)
        awaiting = q.awaiting_decision(tx, territory)
        repeats = q.repeat_referrals(tx, territory)
    managers = []
    for manager_id in sorted(board.managers):
        name, capacity = board.managers[manager_id]
        load = loads.get(manager_id, {"active": 0, "in_hospital": 0, "evaluations_overdue": 0,
                                      "plans_not_validated": 0, "open_alerts": 0})
        managers.append({**load, "case_manager_id": manager_id, "case_manager_name": name,
                         "capacity": capacity, "free_places": board.free_places(manager_id)})
    return {"case_managers": managers, "waiting_list": waiting, "awaiting_decision": awaiting,
            "repeat_referrals": repeats}


@router.get("/awaiting-decision")
def awaiting(views: ViewsDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Referrals waiting for the team's decision, oldest first."""
    forbid_unless(principal.role == "coordinator", "voir les orientations en attente")
    with views.transaction() as tx:
        return q.awaiting_decision(tx, principal.territory)


@router.get("/{case_manager_id}")
def persons(case_manager_id: str, views: ViewsDep, journal: JournalDep,
            principal: PrincipalDep, now: TodayDep, today: Today = None) -> dict[str, Any]:
    """One case manager's caseload: capacity and free places, and for each person where they
    are, evaluations due, last contact, plan validation and open alerts."""
    own = principal.role == "case_manager" and principal.id == case_manager_id
    forbid_unless(own or principal.role == "coordinator", "voir cette file active")
    with views.transaction() as tx:
        persons = [p for p in q.persons_of(tx, case_manager_id, today or now)
                   if own or p["territory"] == principal.territory]
    board = journal.territory(principal.territory) if principal.territory else None
    known = board is not None and case_manager_id in board.managers
    return {
        "case_manager_id": case_manager_id,
        "capacity": board.managers[case_manager_id][1] if board and known else None,
        "free_places": board.free_places(case_manager_id) if board and known else None,
        "active": len(persons),
        "persons": persons,
    }
