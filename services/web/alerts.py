"""Alertes: the list, the live stream through the session, acknowledge and resolve."""

from functools import partial
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from services.web import actions, forms, reads
from services.web.guard import (
    PartsDep,
    Posted,
    User,
    require,
    see_other,
    sessions_of,
)
from services.web.render import page
from shared.api.read_audit import audit_shown
from shared.domain.errors import PathwayError, PathwayNotFoundError
from shared.journal.idempotency import AlreadyAppliedError

router = APIRouter(include_in_schema=False)


@router.get("/alertes")
def alerts(request: Request, user: User, parts: PartsDep, regle: str = "",
           dossier: str = "", etat: str = "") -> Response:
    require(user.role not in ("analyst", "administrator"), "consulter les alertes")
    found = [a for a in reads.alerts_for(parts, user, rule=regle or None,
                                         pathway_id=dossier or None)
             if a["state"] != "resolved" or etat == "toutes"]
    persons = reads.names_of(parts, {a["pathway_id"] for a in
                                     reads.alerts_for(parts, user, pathway_id=None)})
    return page(request, "alertes.html", alerts=found, regle=regle, dossier=dossier,
                etat=etat, persons=persons, done=request.query_params.get("fait"))


@router.get("/alertes/flux")
async def alert_stream(request: Request, user: User, parts: PartsDep) -> StreamingResponse:
    """The signed-in professional's alerts as server-sent events (the session, no token)."""
    service = getattr(request.app.state, "notifications", None)
    if service is None:  # distributed mode: `parcours notify` serves the streams
        raise PathwayNotFoundError("Le flux d'alertes est servi par le service des "
                                   "notifications.")
    address = request.client.host if request.client else None

    def shown(persons: list[str]) -> None:  # as the API's stream: each person, in the audit
        parts.audit.record_many(audit_shown(user, "web alert stream", persons, address))

    session = request.state.web_session  # set when the user was read from the cookie
    events = service.alert_stream(user, request.headers.get("last-event-id"),
                                  partial(sessions_of(request).alive, session), shown)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/alertes/{alert_id}/{step}")
def alert_step(request: Request, alert_id: UUID, step: str, user: User,
               parts: PartsDep, form: Posted) -> Response:
    found = reads.alert(parts, user, alert_id)
    pathway_id = UUID(found["pathway_id"])
    run = {"prise-en-compte": actions.acknowledge_alert,
           "resolution": actions.resolve_alert}.get(step)
    if run is None:
        raise PathwayNotFoundError("Action inconnue.")
    try:
        run(parts, user, pathway_id, alert_id, form)
    except AlreadyAppliedError:
        pass  # the same form sent again: done the first time, answered as then
    except forms.FormError as mistakes:
        return page(request, "alertes.html", status=422,
                    alerts=reads.alerts_for(parts, user), regle="", dossier="", etat="",
                    persons=[], errors=mistakes.errors, errors_for=str(alert_id))
    except PathwayNotFoundError:
        raise
    except PathwayError as rule:
        return page(request, "alertes.html", status=409,
                    alerts=reads.alerts_for(parts, user), regle="", dossier="", etat="",
                    persons=[], banner=rule.message)
    return see_other(f"/alertes?fait={step}")
