"""E-mail over SMTP, in French. (Named ``mailer`` rather than ``email`` so that it can never be
mistaken for the standard library's ``email`` package that ``smtplib`` imports.)

The Message-ID is derived from the delivery id: a message sent twice after a crash between the
send and its record carries the same Message-ID both times, which mail clients de-duplicate."""

import smtplib
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notifications.sending import Outcome
from services.notifications.store import Delivery, parse

SEVERITY_FR = {"info": "information", "warning": "attention", "critical": "critique"}

try:
    _PARIS: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # a system without tzdata: UTC, said as such
    _PARIS = None


def french_moment(stored: str) -> str:
    moment = parse(stored)
    if _PARIS is None:
        return moment.strftime("%d/%m/%Y à %H:%M (UTC)")
    return moment.astimezone(_PARIS).strftime("%d/%m/%Y à %H:%M")


def subject_of(delivery: Delivery) -> str:
    alert = delivery.alert
    severity = SEVERITY_FR.get(alert.severity, alert.severity)
    return f"[Parcours] Alerte {severity} : {alert.title}"


def body_of(delivery: Delivery) -> str:
    alert = delivery.alert
    lines = [
        f"Bonjour {delivery.recipient_name},",
        "",
        "Une alerte de rupture de parcours vous concerne.",
        "",
        f"Alerte : {alert.title}",
        f"Gravité : {SEVERITY_FR.get(alert.severity, alert.severity)}",
        f"Règle : {alert.rule}",
        f"À traiter avant le : {french_moment(alert.due_at)}",
        f"Levée le : {french_moment(alert.raised_at)}",
    ]
    if alert.message:
        lines += ["", alert.message]
    lines += [
        "",
        f"Parcours : {alert.pathway_id}",
        f"Référence de l'alerte : {alert.alert_id}",
        "",
        "Vous recevez ce message car vous faites partie des professionnels concernés par ce",
        "parcours. Vos canaux d'alerte se règlent dans Parcours.",
        "Message automatique : merci de ne pas y répondre.",
    ]
    return "\n".join(lines) + "\n"


def compose(delivery: Delivery, sender: str, sent_at: datetime | None = None) -> EmailMessage:
    if not delivery.destination:
        raise ValueError("no e-mail address for this delivery")
    message = EmailMessage()
    message["Subject"] = subject_of(delivery)
    message["From"] = sender
    message["To"] = Address(display_name=delivery.recipient_name,
                            addr_spec=delivery.destination)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "parcours.invalid"
    message["Message-ID"] = f"<{delivery.delivery_id}@{domain}>"
    message["X-Parcours-Delivery-Id"] = delivery.delivery_id
    message["X-Parcours-Alert-Id"] = delivery.alert.alert_id
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "fr"
    if sent_at is not None:
        message["Date"] = sent_at
    message.set_content(body_of(delivery))
    return message


class SmtpSender:
    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0,
                 starttls: bool = False, username: str | None = None,
                 password: str | None = None) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s
        self.starttls = starttls
        self.username = username
        self._password = password

    def send(self, delivery: Delivery, attempt: int) -> Outcome:
        if not delivery.destination:
            return Outcome(False, error="email.no_address")
        try:
            message = compose(delivery, self.sender, sent_at=datetime.now(UTC))
        except ValueError:  # an address the e-mail library cannot write
            return Outcome(False, error="email.invalid_address")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(message)
        # Stable codes, never the library's text (it can describe the network inside).
        except smtplib.SMTPResponseException:
            return Outcome(False, error="email.server_refused")
        except smtplib.SMTPRecipientsRefused:
            return Outcome(False, error="email.recipient_refused")
        except (smtplib.SMTPException, OSError):
            return Outcome(False, error="email.connection_failed")
        return Outcome(True)
