"""Acting on an alert: acknowledging and resolving it are recorded in its pathway's journal.
Who may see the alert is decided on the alerts view, as for reading it."""

from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from projections.ruptures.queries import visible_alert
from shared.api.http import (
    Authenticated,
    CommandResult,
    JournalDep,
    MetaDep,
    PrincipalDep,
    TodayDep,
    ViewsDep,
    command_result,
)
from shared.domain import access
from shared.events.values import Text

router = APIRouter(prefix="/alerts", tags=["alertes"], dependencies=[Authenticated])


class AlertNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Text = ""


@router.post("/{alert_id}/acknowledgement")
def acknowledge(alert_id: UUID, body: AlertNote, views: ViewsDep, journal: JournalDep,
                meta: MetaDep, principal: PrincipalDep, today: TodayDep,
                response: Response) -> CommandResult:
    """Acknowledge an alert: you have seen it and take it in hand. An information alert
    (R1 hospitalisation, R2 discharge) ends there."""
    alert = visible_alert(views, alert_id, principal, journal, today, access.handles_alerts)
    pathway = journal.acknowledge_alert(UUID(alert["pathway_id"]), alert_id, body.comment, meta)
    return command_result(pathway, response)


@router.post("/{alert_id}/resolution")
def resolve(alert_id: UUID, body: AlertNote, views: ViewsDep, journal: JournalDep,
            meta: MetaDep, principal: PrincipalDep, today: TodayDep,
            response: Response) -> CommandResult:
    """Resolve an alert you have handled, with an optional comment; an alert still open is
    acknowledged in the same call. Alerts whose situation is put right resolve themselves."""
    alert = visible_alert(views, alert_id, principal, journal, today, access.handles_alerts)
    pathway = journal.resolve_alert(UUID(alert["pathway_id"]), alert_id, body.comment, meta)
    return command_result(pathway, response)
