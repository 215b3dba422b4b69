"""Reads of the caseload view."""

from dataclasses import asdict

from fastapi import APIRouter

from projections.caseload import projection as q
from shared.http import ViewsDep

router = APIRouter(prefix="/caseload", tags=["file active"])


@router.get("")
def loads(views: ViewsDep) -> dict[str, object]:
    """Each case manager's number of active persons, and how many are in hospital."""
    with views.transaction() as tx:
        managers = q.manager_loads(tx)
        waiting = q.awaiting_decision(tx)
    return {"case_managers": [asdict(m) for m in managers], "awaiting_decision": len(waiting)}


@router.get("/awaiting-decision")
def awaiting(views: ViewsDep) -> list[dict[str, object]]:
    """Referrals waiting for the team's decision, oldest first."""
    with views.transaction() as tx:
        return [asdict(row) for row in q.awaiting_decision(tx)]


@router.get("/{case_manager_id}")
def persons(case_manager_id: str, views: ViewsDep) -> list[dict[str, object]]:
    """The active persons followed by one case manager."""
    with views.transaction() as tx:
        return [asdict(row) for row in q.persons_of(tx, case_manager_id)]
