"""Reads of the alerts view: the rows, and one alert as its reader may see it."""

import json
from datetime import date
from typing import Any
from uuid import UUID

from projections.ruptures.projection import ALERT_COLUMNS, ALERTS
from shared.api.http import Rule
from shared.domain import access
from shared.domain.errors import ForbiddenError, PathwayNotFoundError
from shared.domain.principal import Principal
from shared.journal.application import Journal
from shared.journal.visibility import readable_pathways
from shared.storage.sqldb import Database


def alert_rows(views: Database, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts matching ``where``, newest first, their recipients decoded."""
    with views.transaction() as tx:
        rows = tx.execute(f"SELECT {', '.join(ALERT_COLUMNS)} FROM {ALERTS} WHERE {where}"
                          " ORDER BY raised_at DESC, alert_id", params)
    alerts = [dict(zip(ALERT_COLUMNS, row, strict=True)) for row in rows]
    for alert in alerts:
        alert["recipients"] = json.loads(alert["recipients"])
    return alerts


def visible_alert(views: Database, alert_id: UUID, principal: Principal, journal: Journal,
                  today: date, rule: Rule = access.reads_file) -> dict[str, Any]:
    """The alert, for the territory's coordinator and for its recipients while the rule of
    the file holds for them today (a member who left the care circle no longer sees it);
    nobody else learns it exists. ``rule``: who may act on it."""
    found = alert_rows(views, "alert_id = :id", {"id": str(alert_id)})
    visible = found and (
        (principal.role == "coordinator" and found[0]["territory"] == principal.territory)
        or (any(r["professional_id"] == principal.id for r in found[0]["recipients"])
            and bool(readable_pathways(journal, principal, {found[0]["pathway_id"]}, today))))
    if not visible:
        raise PathwayNotFoundError("Alerte introuvable.", alert_id=str(alert_id))
    if not readable_pathways(journal, principal, {found[0]["pathway_id"]}, today, rule):
        raise ForbiddenError("Votre rôle ne permet pas de traiter cette alerte.")
    return found[0]
