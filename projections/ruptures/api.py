"""Alerts: list, read, acknowledge, resolve."""

import json
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from projections.ruptures.projection import ALERT_COLUMNS, ALERTS
from shared.api.http import (
    Authenticated,
    CommandResult,
    JournalDep,
    MetaDep,
    PrincipalDep,
    Rule,
    TodayDep,
    ViewsDep,
    command_result,
)
from shared.domain import access
from shared.domain.errors import ForbiddenError, PathwayNotFoundError
from shared.domain.principal import Principal
from shared.events.values import Text
from shared.journal.application import Journal
from shared.journal.visibility import readable_pathways
from shared.storage.sqldb import Database

router = APIRouter(prefix="/alerts", tags=["alertes"], dependencies=[Authenticated])


class AlertNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Text = ""


def _rows(views: Database, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with views.transaction() as tx:
        rows = tx.execute(f"SELECT {', '.join(ALERT_COLUMNS)} FROM {ALERTS} WHERE {where}"
                          " ORDER BY raised_at DESC, alert_id", params)
    alerts = [dict(zip(ALERT_COLUMNS, row, strict=True)) for row in rows]
    for alert in alerts:
        alert["recipients"] = json.loads(alert["recipients"])
    return alerts


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
    alerts = _rows(views, " AND ".join(where), params)
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
    return _find(views, alert_id, principal, journal, today)


@router.post("/{alert_id}/acknowledgement")
def acknowledge(alert_id: UUID, body: AlertNote, views: ViewsDep, journal: JournalDep,
                meta: MetaDep, principal: PrincipalDep, today: TodayDep,
                response: Response) -> CommandResult:
    """Acknowledge an alert: you have seen it and take it in hand. An information alert
    (R1 hospitalisation, R2 discharge) ends there."""
    pathway_id = UUID(_find(views, alert_id, principal, journal, today,
                            access.handles_alerts)["pathway_id"])
    pathway = journal.acknowledge_alert(pathway_id, alert_id, body.comment, meta)
    return command_result(pathway, response)


@router.post("/{alert_id}/resolution")
def resolve(alert_id: UUID, body: AlertNote, views: ViewsDep, journal: JournalDep,
            meta: MetaDep, principal: PrincipalDep, today: TodayDep,
            response: Response) -> CommandResult:
    """Resolve an alert you have handled, with an optional comment; an alert still open is
    acknowledged in the same call. Alerts whose situation is put right resolve themselves."""
    pathway_id = UUID(_find(views, alert_id, principal, journal, today,
                            access.handles_alerts)["pathway_id"])
    pathway = journal.resolve_alert(pathway_id, alert_id, body.comment, meta)
    return command_result(pathway, response)


def _find(views: Database, alert_id: UUID, principal: Principal, journal: Journal,
          today: date, rule: Rule = access.reads_file) -> dict[str, Any]:
    """The alert, for the territory's coordinator and for its recipients while the rule of
    the file holds for them today (a member who left the care circle no longer sees it);
    nobody else learns it exists. ``rule``: who may act on it."""
    found = _rows(views, "alert_id = :id", {"id": str(alert_id)})
    visible = found and (
        (principal.role == "coordinator" and found[0]["territory"] == principal.territory)
        or (any(r["professional_id"] == principal.id for r in found[0]["recipients"])
            and bool(readable_pathways(journal, principal, {found[0]["pathway_id"]}, today))))
    if not visible:
        raise PathwayNotFoundError("Alerte introuvable.", alert_id=str(alert_id))
    if not readable_pathways(journal, principal, {found[0]["pathway_id"]}, today, rule):
        raise ForbiddenError("Votre rôle ne permet pas de traiter cette alerte.")
    return found[0]
