"""Alerts: list and read. Acknowledging and resolving them are commands on the pathway's
journal: they are in ``services/casefile/routes/alerts.py``."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from projections.ruptures.queries import alert_rows, visible_alert
from shared.api.http import Authenticated, JournalDep, PrincipalDep, TodayDep, ViewsDep
from shared.domain.errors import ForbiddenError
from shared.journal.visibility import readable_pathways

router = APIRouter(prefix="/alerts", tags=["alertes"], dependencies=[Authenticated])


@router.get("")
def list_alerts(
    views: ViewsDep,
    principal: PrincipalDep,
    journal: JournalDep,
    today: TodayDep,
    recipient: Annotated[str | None, Query(description="Identifiant d'un destinataire")] = None,
    state: Literal["open", "acknowledged", "resolved"] | None = None,
    territory: str | None = None,
    pathway_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Alerts, newest first, filtered by recipient, state, territory or pathway. A coordinator
    sees the territory's; everyone else, the alerts addressed to them."""
    if principal.role == "coordinator":
        territory = principal.territory
    elif principal.role in ("analyst", "administrator"):
        raise ForbiddenError("Votre rôle ne permet pas de consulter les alertes.")
    else:
        recipient = principal.id
    where, params = ["1 = 1"], {}
    for column, value in (("state", state), ("territory", territory),
                          ("pathway_id", str(pathway_id) if pathway_id else None)):
        if value:
            where.append(f"{column} = :{column}")
            params[column] = value
    alerts = alert_rows(views, " AND ".join(where), params)
    if recipient:
        alerts = [a for a in alerts
                  if any(r["professional_id"] == recipient for r in a["recipients"])]
    if principal.role != "coordinator":  # a recipient who left the care circle reads no more
        readable = readable_pathways(journal, principal, {a["pathway_id"] for a in alerts},
                                      today)
        alerts = [a for a in alerts if a["pathway_id"] in readable]
    return alerts


@router.get("/{alert_id}")
def read_alert(alert_id: UUID, views: ViewsDep, principal: PrincipalDep, journal: JournalDep,
               today: TodayDep) -> dict[str, Any]:
    """One alert with its state."""
    return visible_alert(views, alert_id, principal, journal, today)
