"""HTTP interface of the notifications: channel preferences, the live stream, the delivery log
and the dead letters. The composition root puts a ``NotificationService`` in
``app.state.notifications``."""

import secrets
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, Field

from services.notifications import store
from services.notifications.destinations import DestinationRefusedError, check
from services.notifications.preferences import DEFAULT, Channel, Preferences
from services.notifications.service import NotificationService
from shared.api.auth import AuthenticationError, TokenVerifier
from shared.api.http import Authenticated, PrincipalDep, error_body, forbid_unless
from shared.api.read_audit import audit_shown
from shared.domain import access
from shared.domain.principal import Principal
from shared.storage.audit import AuditLog
from shared.storage.sqldb import Tx

router = APIRouter(prefix="/notifications", tags=["alertes"], dependencies=[Authenticated])


def _service(request: Request) -> NotificationService:
    service: NotificationService = request.app.state.notifications
    return service


def _fresh_service(request: Request) -> NotificationService:
    service = _service(request)
    service.catch_up()  # embedded mode: a read follows the alerts already recorded
    return service


ServiceDep = Annotated[NotificationService, Depends(_service)]
FreshServiceDep = Annotated[NotificationService, Depends(_fresh_service)]
ProfessionalId = Annotated[str, Path(min_length=1, max_length=500,
                                     description="Identifiant du professionnel")]
DeliveryStatus = Literal["pending", "sent", "dead", "cancelled"]


class PreferencesIn(Preferences):
    renew_webhook_secret: bool = Field(
        default=False, description="Émettre un nouveau secret de signature du webhook")


class PreferencesOut(BaseModel):
    professional_id: str
    channels: list[Channel]
    webhook_url: str | None
    email: str | None
    is_default: bool
    webhook_secret: str | None = Field(
        default=None, description="Secret de signature du webhook : donné une seule fois, "
                                  "quand l'adresse est choisie ou le secret renouvelé")


class LogEntryOut(BaseModel):
    at: str
    outcome: str
    attempt: int | None
    http_status: int | None
    error: str | None = Field(description="Code stable de l'échec (webhook.timeout…)")


class DeliveryOut(BaseModel):
    delivery_id: str
    alert_id: str
    pathway_id: str
    rule: str
    severity: str
    title: str
    alert_status: str
    professional_id: str
    recipient_name: str
    channel: Channel
    destination: str | None
    status: str
    attempts_in_round: int
    next_attempt_at: str | None
    created_at: str
    sent_at: str | None
    last_error: str | None
    log: list[LogEntryOut]


def _preferences_out(professional_id: str, found: Preferences | None) -> PreferencesOut:
    chosen = found or DEFAULT
    return PreferencesOut(professional_id=professional_id, channels=chosen.ordered_channels(),
                          webhook_url=chosen.webhook_url, email=chosen.email,
                          is_default=found is None)


def _own_or_admin(tx: Tx, service: NotificationService, principal: Principal,
                  professional_id: str) -> None:
    """The professional, or an administrator of a territory whose alerts they receive (or of
    any territory while they have received none: nothing of another territory is at stake)."""
    forbid_unless(principal.id == professional_id or (
        principal.role == "administrator" and principal.territory is not None and (
            bool(_of_territory(tx, service, principal, 1, professional_id=professional_id))
            or not store.deliveries(tx, professional_id=professional_id, limit=1))),
        "consulter les préférences d'un autre professionnel")


def _own(principal: Principal, professional_id: str) -> None:
    # Only the professional says where their alerts go: an administrator who could set an
    # address could send someone else's named alerts to a receiver of their own.
    forbid_unless(principal.id == professional_id,
                  "choisir les adresses d'alerte d'un autre professionnel")


def _refused(error: DestinationRefusedError) -> JSONResponse:
    return JSONResponse(error_body(error.code, error.message, field="webhook_url"), 422)


def _tell(tx: Tx, service: NotificationService, professional_id: str, principal: Principal,
          before: Preferences | None, after: Preferences) -> None:
    """Tells the professional, on their stream, that their channels changed and by whom."""
    was, now = (before or DEFAULT), after
    if was == now:
        return
    who = "vous-même" if principal.id == professional_id else f"un administrateur ({principal.id})"
    message = (f"Vos canaux d'alerte ont été modifiés par {who} : "
               f"{', '.join(was.ordered_channels())} → {', '.join(now.ordered_channels())}.")
    if was.webhook_url != now.webhook_url and now.webhook_url:
        message += " Nouvelle adresse webhook enregistrée."
    store.add_notice(tx, professional_id, "channels.changed", message, service.clock())
    service.hub.notify()


def _operator(principal: Principal) -> None:
    forbid_unless(principal.role == "administrator" and principal.territory is not None,
                  "consulter le journal des livraisons")


def _of_territory(tx: Tx, service: NotificationService, principal: Principal, limit: int,
                  **filters: str | None) -> list[store.Delivery]:
    """The deliveries of alerts on the administrator's territory, newest first: an
    administrator operates their territory only."""
    found: list[store.Delivery] = []
    territories: dict[str, str | None] = {}
    before: int | None = None
    while len(found) < limit:
        page = store.deliveries(tx, limit=500, before_seq=before, **filters)
        for delivery in page:
            pathway = delivery.alert.pathway_id
            if pathway not in territories:
                territories[pathway] = service.territory_of(pathway)
            # A pathway the journal does not hold names no territory's person.
            if territories[pathway] is None or access.administers(principal, territories[pathway]):
                found.append(delivery)
        if len(page) < 500:
            break
        before = page[-1].seq
    return found[:limit]


def _deliveries_out(tx: Tx, found: list[store.Delivery]) -> list[DeliveryOut]:
    logs = store.log_of(tx, [d.delivery_id for d in found])
    return [
        DeliveryOut(
            delivery_id=d.delivery_id, alert_id=d.alert.alert_id, pathway_id=d.alert.pathway_id,
            # Titles name the person: the administrators who operate deliveries never see them.
            rule=d.alert.rule, severity=d.alert.severity, title="",
            alert_status=d.alert.status, professional_id=d.professional_id,
            recipient_name=d.recipient_name, channel=d.channel, destination=d.destination,
            status=d.status, attempts_in_round=d.attempts, next_attempt_at=d.next_attempt_at,
            created_at=d.created_at, sent_at=d.sent_at, last_error=d.last_error,
            log=[LogEntryOut(at=e.at, outcome=e.outcome, attempt=e.attempt,
                             http_status=e.http_status, error=e.error)
                 for e in logs[d.delivery_id]],
        )
        for d in found
    ]


@router.get("/preferences/{professional_id}")
def get_preferences(professional_id: ProfessionalId, service: ServiceDep,
                    principal: PrincipalDep) -> PreferencesOut:
    """A professional's alert channels (the live stream only, until they choose)."""
    with service.db.transaction() as tx:
        _own_or_admin(tx, service, principal, professional_id)
        return _preferences_out(professional_id, store.get_preferences(tx, professional_id))


@router.put("/preferences/{professional_id}", response_model=None,
            responses={200: {"model": PreferencesOut}})
def put_preferences(professional_id: ProfessionalId, wanted: PreferencesIn,
                    service: ServiceDep, principal: PrincipalDep) -> PreferencesOut | JSONResponse:
    """Choose your own alert channels and addresses, for the alerts raised from now on."""
    _own(principal, professional_id)
    preferences = Preferences(channels=wanted.channels, webhook_url=wanted.webhook_url,
                              email=wanted.email)
    if preferences.webhook_url:
        try:  # refused here, before anything is ever sent there
            check(preferences.webhook_url, service.settings.webhook_allow_loopback_http)
        except DestinationRefusedError as error:
            return _refused(error)
    with service.db.transaction() as tx:
        before = store.get_preferences(tx, professional_id)
        store.put_preferences(tx, professional_id, preferences, service.clock())
        issued = None
        if preferences.webhook_url:
            current = store.webhook_secret_of(tx, professional_id)
            if (wanted.renew_webhook_secret or current is None
                    or current[1] != preferences.webhook_url):
                issued = secrets.token_urlsafe(32)
                store.set_webhook_secret(tx, professional_id, issued, preferences.webhook_url,
                                         service.clock())
        _tell(tx, service, professional_id, principal, before, preferences)
        out = _preferences_out(professional_id, store.get_preferences(tx, professional_id))
        return out.model_copy(update={"webhook_secret": issued})


@router.delete("/preferences/{professional_id}/channels/{channel}")
def disable_channel(professional_id: ProfessionalId, channel: Literal["webhook", "email"],
                    service: ServiceDep, principal: PrincipalDep) -> PreferencesOut:
    """Disable one of a professional's channels (the professional, or an administrator)."""
    with service.db.transaction() as tx:
        _own_or_admin(tx, service, principal, professional_id)
        before = store.get_preferences(tx, professional_id)
        kept = [c for c in (before or DEFAULT).channels if c != channel] or ["sse"]
        after = Preferences(channels=kept,
                            webhook_url=before.webhook_url if before else None,
                            email=before.email if before else None)
        if after != (before or DEFAULT):
            store.put_preferences(tx, professional_id, after, service.clock())
            _tell(tx, service, professional_id, principal, before, after)
        return _preferences_out(professional_id, store.get_preferences(tx, professional_id))


@router.get(
    "/stream/{professional_id}",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "Flux d'événements « alert », un par alerte"}},
)
async def stream(
    professional_id: ProfessionalId,
    service: ServiceDep,
    principal: PrincipalDep,
    request: Request,
    last_event_id: Annotated[str | None, Header(
        description="Dernier identifiant reçu : le flux reprend juste après")] = None,
) -> StreamingResponse:
    """A professional's alerts as server-sent events; resumes after Last-Event-ID. Shows
    only the persons whose file you may read when each alert is sent, and ends when your
    token expires."""
    forbid_unless(principal.id == professional_id, "suivre les alertes d'un autre professionnel")
    audit: AuditLog | None = getattr(request.app.state, "audit", None)
    address = request.client.host if request.client else None
    _, token = get_authorization_scheme_param(request.headers.get("authorization"))
    verifier: TokenVerifier = request.app.state.verifier

    def still_valid() -> bool:
        try:
            return verifier.verify(token) == principal
        except AuthenticationError:
            return False

    def shown(persons: list[str]) -> None:  # every alert the stream shows, in the read audit
        if audit is not None:
            audit.record_many(audit_shown(principal, "alert stream", persons, address))

    events = service.alert_stream(principal, last_event_id, still_valid, shown)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/deliveries")
def deliveries(
    service: FreshServiceDep,
    principal: PrincipalDep,
    alert_id: UUID | None = None,
    professional_id: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DeliveryOut]:
    """Deliveries with their log of attempts, newest first, by alert, professional or status."""
    _operator(principal)
    with service.db.transaction() as tx:
        found = _of_territory(tx, service, principal, limit,
                              alert_id=str(alert_id) if alert_id else None,
                              professional_id=professional_id, status=status)
        return _deliveries_out(tx, found)


@router.get("/dead-letters")
def dead_letters(service: FreshServiceDep, principal: PrincipalDep,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[DeliveryOut]:
    """Deliveries given up after the maximum number of attempts, waiting for a manual retry."""
    _operator(principal)
    with service.db.transaction() as tx:
        return _deliveries_out(tx, _of_territory(tx, service, principal, limit, status="dead"))


@router.post("/dead-letters/{delivery_id}/retry", status_code=202, response_model=None,
             responses={202: {"model": DeliveryOut}, 404: {}, 409: {}})
def retry_dead_letter(delivery_id: UUID, service: ServiceDep,
                      principal: PrincipalDep) -> DeliveryOut | JSONResponse:
    """Send a dead delivery again, in a new round of attempts, to the current address."""
    _operator(principal)
    with service.db.transaction() as tx:
        delivery = store.get_delivery(tx, str(delivery_id))
        if delivery is None or not access.administers(
                principal, service.territory_of(delivery.alert.pathway_id)):
            return JSONResponse(error_body("delivery.not_found", "Livraison inconnue.",
                                           delivery_id=str(delivery_id)), 404)
        if delivery.status != "dead":
            return JSONResponse(
                error_body("delivery.not_dead",
                           "Seule une livraison abandonnée peut être relancée.",
                           delivery_id=str(delivery_id), status=delivery.status), 409)
        preferences = store.get_preferences(tx, delivery.professional_id)
        if preferences is None or delivery.channel not in preferences.channels:
            # A channel the professional (or an administrator) turned off stays off.
            return JSONResponse(
                error_body("delivery.channel_disabled",
                           "Ce canal n'est plus choisi par le professionnel.",
                           delivery_id=str(delivery_id), channel=delivery.channel), 409)
        # The professional may have fixed the address since: use the current one.
        destination = preferences.destination(delivery.channel)
        store.retry_dead(tx, delivery.delivery_id, service.clock(), destination)
        retried = store.get_delivery(tx, delivery.delivery_id)
        assert retried is not None
        return _deliveries_out(tx, [retried])[0]
