"""Finding "e-mail in clear and too talkative": alerts go out by e-mail over TLS with the
server's certificate verified, never in clear to a remote server; and what an e-mail or a
webhook says is that an alert is waiting, with its link, nothing of the person followed (name,
INS, birth date) nor of what happened (« Hospitalisation de … »).

The SMTP servers are real (aiosmtpd) on 127.0.0.1, with a certificate made here."""

import json
import random
import smtplib
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from services.notifications import store
from services.notifications.mailer import SmtpSender
from services.notifications.settings import NotificationSettings
from shared import fictitious as f
from tests.e2e.api import dump, manager, post
from tests.e2e.conftest import MANAGER
from tests.e2e.test_ruptures_api import STAY, Clock, Platform, followed, start
from tests.integration.notification_helpers import (
    WebhookReceiver,
    _Inbox,
    free_port,
    wait_until,
)

PUBLIC_URL = "https://parcours.exemple.invalid"
SENDER = "Parcours <alertes@parcours.exemple.invalid>"
_ALERT = store.Alert(
    alert_id="8d1e1f0e-4c55-4b0c-9d1b-0f3f7c9e2a01",
    pathway_id="0b7c2d3e-1111-4a4a-8b8b-222233334444",
    event_id="1a2b3c4d-5555-4e4e-9f9f-666677778888", rule="R1", severity="critical",
    title="Hospitalisation de Mme Exemple", message="Hospitalisation en urgence.",
    due_at="2031-03-04T08:00:00.000000+00:00", raised_at="2031-03-01T08:00:00.000000+00:00",
    status="open")
EMAIL_DELIVERY = store.Delivery(
    delivery_id=store.delivery_id_for(_ALERT.alert_id, "pro-1", "email"), seq=7,
    professional_id="pro-1", recipient_name="Dr Claire Exemple", recipient_role="attending_gp",
    channel="email", destination="claire.exemple@exemple.invalid", status="pending",
    attempts=0, next_attempt_at=None, created_at=_ALERT.raised_at,
    updated_at=_ALERT.raised_at, sent_at=None, last_error=None, alert=_ALERT)


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: trusted only by whoever is
    given it as a CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    made = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert, private = folder / "smtp.pem", folder / "smtp.key"
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, private


class TlsSmtpSink:
    """A SMTP server on 127.0.0.1 that accepts mail only after STARTTLS (``implicit``: TLS
    from the first byte), keeping every message."""

    def __init__(self, folder: Path, implicit: bool = False, tls: bool = True) -> None:
        self.cert, key = certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.inbox = _Inbox(None)
        options: dict[str, Any] = (
            {"ssl_context": context} if implicit and tls
            else {"tls_context": context, "require_starttls": True} if tls else {})
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     **options)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[TlsSmtpSink]:
    running = TlsSmtpSink(tmp_path)
    yield running
    running.close()


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             sink: TlsSmtpSink) -> Iterator[Platform]:
    for name, value in {"WEBHOOK_ALLOW_LOOPBACK_HTTP": "true", "MAX_ATTEMPTS": "1",
                        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
                        "SMTP_STARTTLS": "true", "SMTP_CA_FILE": str(sink.cert),
                        "SMTP_FROM": SENDER, "PUBLIC_URL": PUBLIC_URL}.items():
        monkeypatch.setenv(f"PARCOURS_NOTIFICATIONS_{name}", value)
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        yield Platform(client, clock)


def test_what_is_sent_says_an_alert_waits_and_nothing_of_the_person(
        platform: Platform, sink: TlsSmtpSink) -> None:
    receiver = WebhookReceiver()
    try:
        chosen = platform.client.put("/notifications/preferences/gc-1", headers=MANAGER, json={
            "channels": ["webhook", "email"], "webhook_url": receiver.url,
            "email": "gc-1@exemple.invalid"})
        assert chosen.status_code == 200, chosen.text
        receiver.secret = chosen.json()["webhook_secret"]
        pathway = followed(platform, 1)
        post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        (alert,) = [a for a in platform.at(STAY + timedelta(minutes=1)) if a["rule"] == "R1"]
        wait_until(lambda: bool(receiver.accepted()) and bool(sink.inbox.mails), 30,
                   "the webhook and the e-mail")
    finally:
        receiver.close()

    person = f.referral(random.Random(1)).person
    # The alert itself names the person: what must not leave the platform.
    assert person.family_name in alert["title"] and "Hospitalisation" in alert["title"]
    forbidden = [person.family_name, person.given_names, str(person.ins),
                 person.birth_date.isoformat(), person.birth_date.strftime("%d/%m/%Y"),
                 "hospitalis", "hôpital", "chute", "gériatrie", "villefictive", alert["title"],
                 alert["message"]]

    (mail,) = sink.inbox.mails
    (hook,) = receiver.accepted()
    assert hook.signature_valid
    subject, body = str(mail.message["Subject"]), mail.message.get_content()
    sent = {"subject": subject, "body": body, "raw e-mail": mail.message.as_string(),
            "webhook": hook.body.decode()}
    for where, text in sent.items():
        found = [word for word in forbidden if word.casefold() in text.casefold()]
        assert not found, f"{where} says {found}: {text}"

    assert subject == "[Parcours] Une alerte vous attend"
    assert f"{PUBLIC_URL}/alertes" in body and alert["alert_id"] in body
    document = json.loads(hook.body)
    assert document["alert"] == {"alert_id": alert["alert_id"], "url": f"{PUBLIC_URL}/alertes"}
    assert document["recipient"] == {"professional_id": "gc-1"}


def test_starttls_refuses_a_certificate_it_cannot_verify(sink: TlsSmtpSink) -> None:
    # The system's CAs only: the sink's self-signed certificate is not among them.
    sender = SmtpSender("127.0.0.1", sink.port, SENDER, 5, True)
    outcome = sender.send(EMAIL_DELIVERY, 1)
    assert not outcome.ok and outcome.error == "email.tls_failed"
    assert sink.inbox.mails == []
    # Given the certificate as the CA, the same server is trusted.
    trusting = SmtpSender("127.0.0.1", sink.port, SENDER, 5, True, ca_file=sink.cert)
    assert trusting.send(EMAIL_DELIVERY, 1).ok
    assert len(sink.inbox.mails) == 1


def test_implicit_tls_verifies_the_certificate_too(tmp_path: Path) -> None:
    sink = TlsSmtpSink(tmp_path, implicit=True)
    try:
        unverified = SmtpSender("127.0.0.1", sink.port, SENDER, 5, tls=True)
        assert unverified.send(EMAIL_DELIVERY, 1).error == "email.tls_failed"
        trusting = SmtpSender("127.0.0.1", sink.port, SENDER, 5, tls=True, ca_file=sink.cert)
        assert trusting.send(EMAIL_DELIVERY, 1).ok
        assert len(sink.inbox.mails) == 1
    finally:
        sink.close()


def test_a_server_without_starttls_gets_nothing_in_clear(tmp_path: Path) -> None:
    sink = TlsSmtpSink(tmp_path, tls=False)
    try:
        outcome = SmtpSender("127.0.0.1", sink.port, SENDER, 5).send(EMAIL_DELIVERY, 1)
        assert outcome.error == "email.starttls_unavailable"
        assert sink.inbox.mails == []
        # The tests' and a local relay's exception: in clear, to loopback only, when said.
        allowed = SmtpSender("127.0.0.1", sink.port, SENDER, 5, allow_plaintext=True)
        assert allowed.send(EMAIL_DELIVERY, 1).ok
        remote = SmtpSender("smtp.exemple.invalid", sink.port, SENDER, 5, starttls=False,
                            allow_plaintext=True)
        assert remote.send(EMAIL_DELIVERY, 1).error == "email.plaintext_refused"
    finally:
        sink.close()


def test_the_settings_refuse_e_mail_in_clear() -> None:
    assert NotificationSettings().smtp_starttls  # the default
    with pytest.raises(ValidationError, match="in clear"):
        NotificationSettings(smtp_starttls=False)
    with pytest.raises(ValidationError, match="loopback"):
        NotificationSettings(smtp_host="smtp.exemple.invalid", smtp_allow_plaintext=True)
    assert NotificationSettings(smtp_allow_plaintext=True).smtp_allow_plaintext


def test_smtplib_alone_would_have_sent_it(sink: TlsSmtpSink) -> None:
    """What the finding was: STARTTLS without a context accepts any certificate."""
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
        smtp.starttls()
        smtp.sendmail("a@exemple.invalid", ["b@exemple.invalid"], b"Subject: x\r\n\r\nx")
    assert len(sink.inbox.mails) == 1
