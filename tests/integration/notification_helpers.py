"""Real receivers on 127.0.0.1 for the notification tests: a webhook endpoint, an SMTP server
(aiosmtpd), a server-sent events client; a clock the tests move; alert events on Kafka.

All people and addresses here are fictitious (``@exemple.invalid``)."""

import http.server
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from kafka import KafkaProducer

from services.notifications.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from shared.events import Actor, EventEnvelope
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.integration.kafka_helpers import wait_until

START = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)
SECRET = "secret-des-tests-uniquement"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Arrivals:
    """Every message received by any sink, in arrival order: (channel, delivery id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[tuple[str, str]] = []

    def add(self, channel: str, delivery_id: str) -> None:
        with self._lock:
            self.items.append((channel, delivery_id))

    def snapshot(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.items)


@dataclass
class Received:
    delivery_id: str
    attempt: str | None
    body: bytes
    signature: str | None
    signature_valid: bool
    answered: int
    timestamp: str | None = None
    host: str | None = None


class WebhookReceiver:
    """An HTTP endpoint that records every POST and answers ``answer`` (204, or 503 when down)."""

    def __init__(self, secret: str = SECRET, arrivals: Arrivals | None = None) -> None:
        self.secret = secret
        self.answer = 204
        self.requests: list[Received] = []
        self.arrivals = arrivals
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = receiver.answer
                delivery_id = self.headers[DELIVERY_HEADER]
                signature = self.headers[SIGNATURE_HEADER]
                timestamp = self.headers[TIMESTAMP_HEADER]
                receiver.requests.append(Received(
                    delivery_id, self.headers["X-Parcours-Attempt"], body, signature,
                    verify(receiver.secret, body, timestamp, signature), answer,
                    timestamp, self.headers["Host"]))
                if receiver.arrivals is not None and answer < 300:
                    receiver.arrivals.add("webhook", delivery_id)
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/parcours/alertes"

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.answered < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mail:
    recipients: list[str]
    message: EmailMessage


@dataclass
class _Inbox:
    arrivals: Arrivals | None
    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(list(envelope.rcpt_tos), message))
        if self.arrivals is not None:
            self.arrivals.add("email", str(message["X-Parcours-Delivery-Id"]))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message."""

    def __init__(self, arrivals: Arrivals | None = None) -> None:
        self.inbox = _Inbox(arrivals)
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def mails(self) -> list[Mail]:
        return self.inbox.mails

    def close(self) -> None:
        self.controller.stop()


class SseClient:
    """Reads a server-sent events stream in a thread and keeps the events."""

    def __init__(self, url: str, last_event_id: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.url = url
        # The stream is the professional's own: the last part of its URL.
        self.headers = dict(headers or bearer(url.rstrip("/").rsplit("/", 1)[-1], "referrer",
                                              None))
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = last_event_id
        self.events: list[dict[str, str]] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_until(lambda: self.status is not None or self.error is not None, 10,
                   "the stream to open")
        if self.error is not None:
            raise self.error

    def _read(self) -> None:
        try:
            self._read_events()
        except BaseException as error:
            self.error = error

    def _read_events(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(10, read=None)) as client, \
                client.stream("GET", self.url, headers=self.headers) as response:
            self.status = response.status_code
            event: dict[str, str] = {}
            for line in response.iter_lines():
                if line == "":
                    if "data" in event:
                        self.events.append(event)
                    event = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")

    def wait_for(self, count: int, timeout_s: float = 10) -> list[dict[str, str]]:
        wait_until(lambda: len(self.events) >= count, timeout_s, f"{count} stream events")
        return self.events

    def join(self) -> None:
        self.thread.join(timeout=10)


def recipient(professional_id: str, name: str, role: str) -> dict[str, str]:
    return {"professional_id": professional_id, "name": name, "role": role}


def alert_raised(recipients: list[dict[str, str]], *, alert_id: uuid.UUID | None = None,
                 pathway_id: uuid.UUID | None = None, stream_version: int = 12,
                 at: datetime = START, rule: str = "R2",
                 title: str = "Sortie d'hôpital sans réévaluation") -> EventEnvelope:
    alert_id = alert_id or uuid.uuid4()
    return EventEnvelope(
        event_id=uuid.uuid4(), pathway_id=pathway_id or uuid.uuid4(),
        stream_version=stream_version, global_position=None, type="AlertRaised",
        schema_version=1, occurred_at=at, recorded_at=at,
        actor=Actor(id="regles-ruptures", role="system"), correlation_id=uuid.uuid4(),
        causation_id=None,
        data={"alert_id": str(alert_id), "dedup_key": f"{rule}/{alert_id}", "rule": rule,
              "severity": "critical", "title": title,
              "message": "Retour à domicile il y a 8 jours : aucune évaluation de retour.",
              "recipients": recipients, "due_at": (at + timedelta(days=2)).isoformat()},
    )


def alert_followup(raised: EventEnvelope, type_name: str, stream_version: int
                   ) -> EventEnvelope:
    """AlertAcknowledged or AlertResolved of a raised alert, later in the same pathway."""
    field_name = "comment" if type_name == "AlertAcknowledged" else "resolution"
    return raised.model_copy(update={
        "event_id": uuid.uuid4(), "type": type_name, "stream_version": stream_version,
        "data": {"alert_id": raised.data["alert_id"], field_name: "Réévaluation programmée."},
    })


def produce(settings: Settings, events: list[EventEnvelope]) -> None:
    """Writes events to the alerts topic the way the upstream relay does: key = pathway id."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        for event in events:
            producer.send(settings.alerts_topic, key=str(event.pathway_id).encode(),
                          value=event.to_json())
        producer.flush(timeout=30)
    finally:
        producer.close()
