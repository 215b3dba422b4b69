"""Dysfunction reports and their aggregation."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from projections.dysfunctions.projection import TABLE
from shared.api.http import Authenticated, PrincipalDep, ViewsDep, scoped_territory
from shared.events.payloads import DysfunctionCategory

router = APIRouter(prefix="/dysfunctions", tags=["dysfonctionnements"],
                   dependencies=[Authenticated])
Since = Annotated[date | None, Query(description="Depuis cette date (incluse)")]
Until = Annotated[date | None, Query(description="Jusqu'à cette date (exclue)")]


def _where(territory: str | None, since: date | None, until: date | None,
           category: str | None = None) -> tuple[str, dict[str, Any]]:
    clauses, params = ["1 = 1"], {}
    if territory:
        clauses.append("territory = :territory")
        params["territory"] = territory
    if category:
        clauses.append("category = :category")
        params["category"] = category
    if since:
        clauses.append("reported_at >= :since")
        params["since"] = since.isoformat()
    if until:
        clauses.append("reported_at < :until")
        params["until"] = until.isoformat()
    return " AND ".join(clauses), params


@router.get("/summary")
def summary(views: ViewsDep, principal: PrincipalDep, territory: str | None = None,
            since: Since = None, until: Until = None) -> list[dict[str, Any]]:
    """Number of reports by territory and category, for the concertation tables."""
    territory = scoped_territory(principal, territory, analysts=True)
    where, params = _where(territory, since, until)
    with views.transaction() as tx:
        rows = tx.execute(f"SELECT territory, category, COUNT(*) FROM {TABLE} WHERE {where}"
                          " GROUP BY territory, category ORDER BY territory, category", params)
    return [{"territory": t, "category": c, "reports": int(n)} for t, c, n in rows]


@router.get("")
def reports(views: ViewsDep, principal: PrincipalDep, territory: str | None = None,
            category: DysfunctionCategory | None = None, since: Since = None,
            until: Until = None) -> list[dict[str, Any]]:
    """The reports themselves, newest first."""
    territory = scoped_territory(principal, territory)
    where, params = _where(territory, since, until, category)
    columns = ("event_id", "pathway_id", "territory", "category", "description",
               "reported_by", "reported_at")
    with views.transaction() as tx:
        rows = tx.execute(f"SELECT {', '.join(columns)} FROM {TABLE} WHERE {where}"
                          " ORDER BY reported_at DESC, event_id", params)
    return [dict(zip(columns, row, strict=True)) for row in rows]
