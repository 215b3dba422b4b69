"""The webhook and e-mail senders made from every setting that concerns them: TLS and its
certificate check, the loopback exception, what a message may say (``disclosure``).

``service.build`` makes its senders from a few settings only; ``configure`` puts these in their
place, before the dispatcher's first round. Its own are safe without it (TLS verified, never
in clear, a notice only), just not configurable."""

from services.notifications import store
from services.notifications.disclosure import disclosure_of
from services.notifications.mailer import SmtpSender
from services.notifications.service import NotificationService
from services.notifications.webhook import WebhookSender


def configure(service: NotificationService) -> NotificationService:
    settings, db = service.settings, service.db

    def secret_for(professional_id: str) -> str | None:
        with db.transaction() as tx:
            found = store.webhook_secret_of(tx, professional_id)
        return found[0] if found else None

    service.dispatcher.senders["email"] = SmtpSender.from_settings(settings)
    service.dispatcher.senders["webhook"] = WebhookSender(
        secret_for, settings.webhook_timeout_s, settings.webhook_allow_loopback_http,
        disclosure=disclosure_of(settings))
    return service
