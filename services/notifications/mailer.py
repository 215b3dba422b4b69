"""E-mail over SMTP, in French. (Named ``mailer`` rather than ``email`` so that it can never be
mistaken for the standard library's ``email`` package that ``smtplib`` imports.)

What it says is ``disclosure``'s choice: by default that an alert waits, with the link, and
nothing of the person or of what happened. It goes over TLS with the server's certificate
verified, or not at all (``SmtpSender``).

The Message-ID is derived from the delivery id: a message sent twice after a crash between the
send and its record carries the same Message-ID both times, which mail clients de-duplicate."""

import smtplib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notifications.disclosure import NOTICE_ONLY, Disclosure, disclosure_of
from services.notifications.sending import Outcome
from services.notifications.settings import NotificationSettings, is_loopback
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


def subject_of(delivery: Delivery, disclosure: Disclosure = NOTICE_ONLY) -> str:
    alert = delivery.alert
    if not disclosure.tells_everything_to("email", delivery.destination):
        return "[Parcours] Une alerte vous attend"
    severity = SEVERITY_FR.get(alert.severity, alert.severity)
    return f"[Parcours] Alerte {severity} : {alert.title}"


def body_of(delivery: Delivery, disclosure: Disclosure = NOTICE_ONLY) -> str:
    alert = delivery.alert
    if not disclosure.tells_everything_to("email", delivery.destination):
        lines = [
            "Bonjour,",
            "",
            "Une alerte vous attend dans Parcours.",
            "",
            f"Pour la lire, connectez-vous : {disclosure.alerts_link}",
            f"Référence de l'alerte : {alert.alert_id}",
            "",
            "Ce message ne dit rien de la personne concernée ni de ce qui est arrivé : une",
            "boîte aux lettres n'est pas un lieu pour des données de santé. L'alerte se lit",
            "dans Parcours, une fois connecté.",
        ]
    else:
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
            f"Dans Parcours : {disclosure.alerts_link}",
        ]
    lines += [
        "",
        "Vous recevez ce message car vous faites partie des professionnels concernés par ce",
        "parcours. Vos canaux d'alerte se règlent dans Parcours.",
        "Message automatique : merci de ne pas y répondre.",
    ]
    return "\n".join(lines) + "\n"


def compose(delivery: Delivery, sender: str, sent_at: datetime | None = None,
            disclosure: Disclosure = NOTICE_ONLY) -> EmailMessage:
    if not delivery.destination:
        raise ValueError("no e-mail address for this delivery")
    message = EmailMessage()
    message["Subject"] = subject_of(delivery, disclosure)
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
    message.set_content(body_of(delivery, disclosure))
    return message


class SmtpSender:
    """Sends over STARTTLS (or implicit TLS), the server's certificate and name verified by
    the system's CAs or ``ca_file``; never falls back to clear. Clear only when
    ``allow_plaintext`` and the server is on this machine."""

    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0,
                 starttls: bool = True, username: str | None = None,
                 password: str | None = None, *, tls: bool = False,
                 ca_file: Path | None = None, allow_plaintext: bool = False,
                 disclosure: Disclosure = NOTICE_ONLY) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout_s = timeout_s
        self.starttls = starttls
        self.tls = tls
        self.plaintext = allow_plaintext and is_loopback(host)
        # Made once: a CA file that cannot be read stops the start, not every send.
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self.username = username
        self._password = password
        self.disclosure = disclosure

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> "SmtpSender":
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                   settings.smtp_timeout_s, settings.smtp_starttls, settings.smtp_username,
                   password, tls=settings.smtp_tls, ca_file=settings.smtp_ca_file,
                   allow_plaintext=settings.smtp_allow_plaintext,
                   disclosure=disclosure_of(settings))

    def send(self, delivery: Delivery, attempt: int) -> Outcome:
        if not delivery.destination:
            return Outcome(False, error="email.no_address")
        if not (self.tls or self.starttls or self.plaintext):
            return Outcome(False, error="email.plaintext_refused")
        try:
            message = compose(delivery, self.sender, sent_at=datetime.now(UTC),
                              disclosure=self.disclosure)
        except ValueError:  # an address the e-mail library cannot write
            return Outcome(False, error="email.invalid_address")
        try:
            smtp = (smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                     context=self.context) if self.tls and not self.plaintext
                    else smtplib.SMTP(self.host, self.port, timeout=self.timeout_s))
            with smtp:
                if not (self.tls or self.plaintext):
                    # Raises when the server offers no STARTTLS: never goes on in clear.
                    smtp.starttls(context=self.context)
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(message)
        # Stable codes, never the library's text (it can describe the network inside).
        except smtplib.SMTPNotSupportedError:
            return Outcome(False, error="email.starttls_unavailable")
        except smtplib.SMTPResponseException:
            return Outcome(False, error="email.server_refused")
        except smtplib.SMTPRecipientsRefused:
            return Outcome(False, error="email.recipient_refused")
        except ssl.SSLError:  # an unverified certificate, a name that does not match
            return Outcome(False, error="email.tls_failed")
        except (smtplib.SMTPException, OSError):
            return Outcome(False, error="email.connection_failed")
        return Outcome(True)
