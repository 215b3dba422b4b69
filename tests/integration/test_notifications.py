"""Rupture alerts from the real alerts topic (Kafka) to real receivers on 127.0.0.1: a webhook
endpoint, an SMTP server and a server-sent events client, with the deliveries in the real
PostgreSQL. The clock the dispatcher reads is moved by the tests: no test sleeps through a
backoff. The last test `kill -9`s the real notifications process and restarts it."""

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from parcours.bootstrap import alerts_projector
from parcours.web import notifications_app as create_app
from services.notifications import store
from services.notifications.consumer import NotificationsProjection
from services.notifications.outbound import configure
from services.notifications.preferences import Preferences
from services.notifications.service import build_distributed, build_embedded
from services.notifications.settings import NotificationSettings
from services.notifications.webhook import verify
from shared.api.auth import verifier_for
from shared.api.server import ApiServer
from shared.domain.principal import Principal
from shared.events import EventEnvelope
from shared.fictitious import TERRITORY
from shared.runtime.settings import Settings
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.sqldb import PostgresDatabase, SqliteDatabase
from shared.streaming.projecting import LogProjector, prepare, stored_offsets
from tests.conftest import PUBLIC_KEY, bearer
from tests.integration.notification_helpers import (
    SECRET,
    START,
    Arrivals,
    FakeClock,
    SmtpSink,
    SseClient,
    WebhookReceiver,
    alert_followup,
    alert_raised,
    free_port,
    produce,
    recipient,
    wait_until,
)

DR = recipient("pro-medecin-1", "Dr Claire Exemple", "attending_gp")
NURSE = recipient("pro-infirmier-2", "Paul Exemple", "nurse")
SOCIAL = recipient("pro-social-3", "Inès Exemple", "social_worker")

ADMIN = bearer("admin-1", "administrator")


def every_file_readable(_: Principal, pathway_ids: set[str]) -> set[str]:
    """This suite's alerts name pathways no journal holds: it proves delivery, and the file's
    rule on the streams is proven on the whole platform (tests/e2e/security)."""
    return pathway_ids


class Notifications:
    """The service in this process on the real PostgreSQL and Kafka, with a fake clock: the
    test takes the alerts in and runs the dispatcher itself; the API is served on a real port."""

    def __init__(self, settings: Settings, smtp: SmtpSink) -> None:
        self.settings = settings
        self.clock = FakeClock()
        self.options = NotificationSettings.model_validate({
            "webhook_allow_loopback_http": True, "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
            "smtp_allow_plaintext": True,  # the sink on loopback speaks no TLS
            "smtp_from": "Parcours <alertes@parcours.exemple.invalid>", "port": free_port(),
            "sse_poll_s": 0.1, "webhook_timeout_s": 2})
        self.db = PostgresDatabase(settings.database_url)
        self.service = configure(build_distributed(self.db, self.options, every_file_readable,
                                                   lambda _: TERRITORY, self.clock))
        self.projector = alerts_projector(settings, self.service)
        self.api = ApiServer(create_app(self.service, verifier_for(settings),
                                        AuditAnchor.from_settings(settings)), "127.0.0.1",
                             self.options.port).start()
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.options.port}", timeout=10,
                                 headers=ADMIN)

    def stream_url(self, professional_id: str) -> str:
        return f"http://127.0.0.1:{self.options.port}/notifications/stream/{professional_id}"

    def prefer(self, professional_id: str, **preferences: object) -> None:
        """Sets the professional's channels as they do themselves; their webhook secret is
        then replaced by the tests' one, so that one receiver checks everyone's signatures."""
        answer = self.http.put(f"/notifications/preferences/{professional_id}",
                               json=preferences, headers=bearer(professional_id, "referrer", None))
        assert answer.status_code == 200, answer.text
        if preferences.get("webhook_url"):
            assert answer.json()["webhook_secret"]
            with self.db.transaction() as tx:
                store.set_webhook_secret(tx, professional_id, SECRET,
                                         str(preferences["webhook_url"]), START)

    def offsets(self) -> int:
        return sum(stored_offsets(self.db, "notifications", self.settings.alerts_topic).values())

    def take_in(self, records: int) -> None:
        """Consumes until ``records`` records of the alerts topic are committed."""
        def done() -> bool:
            if self.projector.poll_once(timeout_ms=200):
                self.service.hub.notify()
            return self.offsets() >= records
        wait_until(done, 60, f"{records} alert records taken in")

    def deliveries(self, **query: str) -> list[dict[str, Any]]:
        answer = self.http.get("/notifications/deliveries", params=query)
        assert answer.status_code == 200, answer.text
        result: list[dict[str, Any]] = answer.json()
        return result

    def dispatch_until_settled(self, delivery_id: str, back_up_at: timedelta | None = None,
                               receiver: WebhookReceiver | None = None) -> None:
        """Moves the clock from one scheduled attempt to the next until the delivery is no
        longer pending; the receiver comes back ``back_up_at`` after the start."""
        for _ in range(50):
            if back_up_at is not None and receiver and self.clock.now - START >= back_up_at:
                receiver.answer = 204
            self.service.dispatcher.run_once()
            delivery = self._delivery(delivery_id)
            if delivery.status != "pending":
                return
            assert delivery.next_attempt_at is not None
            due = store.parse(delivery.next_attempt_at)
            self.clock.now = due - timedelta(seconds=1)
            assert self.service.dispatcher.run_once() == 0, "sent before it was due"
            self.clock.now = due
        raise AssertionError("the delivery never settled")

    def _delivery(self, delivery_id: str) -> store.Delivery:
        with self.db.transaction() as tx:
            delivery = store.get_delivery(tx, delivery_id)
        assert delivery is not None
        return delivery

    def close(self) -> None:
        self.service.hub.close()
        self.api.stop()
        self.http.close()
        self.projector.consumer.close()
        self.db.close()


@pytest.fixture
def notifications(alerts: Settings, smtp: SmtpSink) -> Iterator[Notifications]:
    running = Notifications(alerts, smtp)
    yield running
    running.close()


def delivery_id(event: EventEnvelope, who: dict[str, str], channel: str) -> str:
    return store.delivery_id_for(str(event.data["alert_id"]), who["professional_id"], channel)


def test_an_alert_reaches_the_webhook_the_stream_and_the_mailbox_once(
    notifications: Notifications, alerts: Settings, receiver: WebhookReceiver, smtp: SmtpSink
) -> None:
    n = notifications
    n.prefer(DR["professional_id"], channels=["sse", "webhook", "email"],
             webhook_url=receiver.url, email="claire.exemple@exemple.invalid")
    n.prefer(NURSE["professional_id"], channels=["email"], email="paul.exemple@exemple.invalid")
    # SOCIAL never chose: the stream only
    first_stream = SseClient(n.stream_url(DR["professional_id"]))
    assert first_stream.status == 200

    raised = alert_raised([DR, NURSE, SOCIAL])
    produce(alerts, [raised])
    n.take_in(1)
    assert n.service.dispatcher.run_once() == 3  # DR webhook, DR e-mail, NURSE e-mail

    (hook,) = receiver.requests
    assert hook.signature_valid, "the HMAC-SHA256 signature does not verify"
    assert hook.delivery_id == delivery_id(raised, DR, "webhook")
    document = json.loads(hook.body)
    assert document["alert"]["alert_id"] == raised.data["alert_id"]
    assert document["recipient"]["professional_id"] == DR["professional_id"]

    assert sorted(m.recipients[0] for m in smtp.mails) == [
        "claire.exemple@exemple.invalid", "paul.exemple@exemple.invalid"]
    mail = smtp.mails[0].message
    # That an alert waits, and its link: the alert itself is read once signed in.
    assert mail["Subject"] == "[Parcours] Une alerte vous attend"
    assert "Une alerte vous attend dans Parcours." in mail.get_content()
    assert "hôpital" not in mail.get_content()

    (event,) = first_stream.wait_for(1)
    assert event["event"] == "alert"
    assert json.loads(event["data"])["alert"]["alert_id"] == raised.data["alert_id"]

    # The relay publishes the same record again at a new offset, and the rules engine's copy
    # of the alert comes once more in a new event: neither adds anything.
    copy = alert_raised([DR, NURSE, SOCIAL, recipient("pro-4", "Léa Exemple", "nurse")],
                        alert_id=uuid.UUID(str(raised.data["alert_id"])),
                        pathway_id=raised.pathway_id, stream_version=13)
    produce(alerts, [raised, copy])
    n.take_in(3)
    assert n.service.dispatcher.run_once() == 0
    assert len(receiver.requests) == 1 and len(smtp.mails) == 2

    logged = n.deliveries(alert_id=str(raised.data["alert_id"]))
    assert sorted((d["professional_id"], d["channel"], d["status"]) for d in logged) == [
        ("pro-infirmier-2", "email", "sent"),
        ("pro-medecin-1", "email", "sent"),
        ("pro-medecin-1", "sse", "sent"),
        ("pro-medecin-1", "webhook", "sent"),
        ("pro-social-3", "sse", "sent"),
    ]
    webhook_log = next(d["log"] for d in logged if d["channel"] == "webhook")
    assert [(e["outcome"], e["attempt"], e["http_status"]) for e in webhook_log] == [
        ("sent", 1, 204)]

    # A stream that reconnects after the first alert gets only what follows; one that
    # starts from 0 replays everything; the first one goes on.
    resumed = SseClient(n.stream_url(DR["professional_id"]), last_event_id=event["id"])
    from_zero = SseClient(n.stream_url(DR["professional_id"]), last_event_id="0")
    second = alert_raised([DR], title="Hospitalisation sans information du médecin traitant",
                          rule="R3")
    produce(alerts, [second])
    n.take_in(4)
    second_id = second.data["alert_id"]
    assert [json.loads(e["data"])["alert"]["alert_id"] for e in resumed.wait_for(1)] == [
        second_id]
    # From 0 also replays the notice of the channels DR chose at the start.
    replayed = from_zero.wait_for(3)
    assert [e["event"] for e in replayed] == ["notice", "alert", "alert"]
    assert [json.loads(e["data"])["alert"]["alert_id"] for e in replayed[1:]] == [
        raised.data["alert_id"], second_id]
    assert len(first_stream.wait_for(2)) == 2
    assert int(first_stream.events[1]["id"]) > int(event["id"])
    n.service.dispatcher.run_once()
    assert len(receiver.requests) == 2 and len(smtp.mails) == 3

    n.service.hub.close()  # ends the streams: nothing more came on any of them
    for client in (first_stream, resumed, from_zero):
        client.join()
    assert (len(first_stream.events), len(resumed.events), len(from_zero.events)) == (2, 1, 3)


def test_a_webhook_down_for_an_hour_gets_the_alert_when_it_is_back(
    notifications: Notifications, alerts: Settings, receiver: WebhookReceiver
) -> None:
    n = notifications
    n.prefer(DR["professional_id"], channels=["webhook"], webhook_url=receiver.url)
    receiver.answer = 503
    raised = alert_raised([DR])
    produce(alerts, [raised])
    n.take_in(1)

    n.dispatch_until_settled(delivery_id(raised, DR, "webhook"),
                             back_up_at=timedelta(hours=1), receiver=receiver)

    (delivery,) = n.deliveries(alert_id=str(raised.data["alert_id"]))
    assert delivery["status"] == "sent"
    attempts = [(e["attempt"], e["outcome"], e["http_status"],
                 int((store.parse(e["at"]) - START).total_seconds()))
                for e in delivery["log"]]
    assert attempts == [
        (1, "failed", 503, 0), (2, "failed", 503, 30), (3, "failed", 503, 90),
        (4, "failed", 503, 210), (5, "failed", 503, 450), (6, "failed", 503, 930),
        (7, "failed", 503, 1890), (8, "sent", 204, 3810),
    ]
    assert [r.answered for r in receiver.requests] == [503] * 7 + [204]
    assert {r.delivery_id for r in receiver.requests} == {delivery["delivery_id"]}
    assert [r.attempt for r in receiver.requests] == [str(i) for i in range(1, 9)]
    assert all(r.signature_valid for r in receiver.requests)
    assert receiver.requests[0].body == receiver.requests[-1].body
    assert n.http.get("/notifications/dead-letters").json() == []


def test_after_the_last_attempt_the_delivery_is_a_dead_letter_that_can_be_retried(
    notifications: Notifications, alerts: Settings, receiver: WebhookReceiver
) -> None:
    n = notifications
    nobody_listens = f"http://127.0.0.1:{free_port()}/alertes"
    n.prefer(DR["professional_id"], channels=["webhook"], webhook_url=nobody_listens)
    raised = alert_raised([DR])
    produce(alerts, [raised])
    n.take_in(1)
    dead_id = delivery_id(raised, DR, "webhook")

    n.dispatch_until_settled(dead_id)

    (dead,) = n.http.get("/notifications/dead-letters").json()
    assert dead["delivery_id"] == dead_id and dead["status"] == "dead"
    assert [e["outcome"] for e in dead["log"]] == ["failed"] * n.options.max_attempts
    assert all(e["error"] == "webhook.connection_failed" for e in dead["log"])
    n.clock.advance(86_400)
    assert n.service.dispatcher.run_once() == 0  # dead letters wait for a person

    # The professional gives a working address; the retry goes there.
    n.prefer(DR["professional_id"], channels=["webhook"], webhook_url=receiver.url)
    answer = n.http.post(f"/notifications/dead-letters/{dead_id}/retry")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"
    assert answer.json()["destination"] == receiver.url
    assert n.service.dispatcher.run_once() == 1

    assert [r.delivery_id for r in receiver.requests] == [dead_id]
    assert receiver.requests[0].signature_valid
    assert n.http.get("/notifications/dead-letters").json() == []
    (delivery,) = n.deliveries(alert_id=str(raised.data["alert_id"]))
    assert [e["outcome"] for e in delivery["log"]] == (
        ["failed"] * 8 + ["retry_requested", "sent"])
    assert delivery["log"][-1]["attempt"] == 9

    again = n.http.post(f"/notifications/dead-letters/{dead_id}/retry")
    assert again.status_code == 409 and again.json()["error"]["code"] == "delivery.not_dead"
    unknown = n.http.post(f"/notifications/dead-letters/{uuid.uuid4()}/retry")
    assert unknown.status_code == 404


def test_a_resolved_alert_cancels_the_retries_still_waiting(
    notifications: Notifications, alerts: Settings, receiver: WebhookReceiver
) -> None:
    n = notifications
    n.prefer(DR["professional_id"], channels=["webhook"], webhook_url=receiver.url)
    receiver.answer = 503
    raised = alert_raised([DR])
    produce(alerts, [raised])
    n.take_in(1)
    assert n.service.dispatcher.run_once() == 1  # fails, retry planned in 30 s

    produce(alerts, [alert_followup(raised, "AlertAcknowledged", 13)])
    n.take_in(2)
    (delivery,) = n.deliveries(alert_id=str(raised.data["alert_id"]))
    assert (delivery["alert_status"], delivery["status"]) == ("acknowledged", "pending")

    produce(alerts, [alert_followup(raised, "AlertResolved", 14)])
    n.take_in(3)
    receiver.answer = 204
    n.clock.advance(3600)
    assert n.service.dispatcher.run_once() == 0
    (delivery,) = n.deliveries(alert_id=str(raised.data["alert_id"]))
    assert (delivery["alert_status"], delivery["status"]) == ("resolved", "cancelled")
    assert [e["outcome"] for e in delivery["log"]] == ["failed", "cancelled"]


def test_preferences_are_validated_and_kept(notifications: Notifications) -> None:
    n = notifications
    fresh = n.http.get("/notifications/preferences/pro-nouveau").json()
    assert fresh == {"professional_id": "pro-nouveau", "channels": ["sse"],
                     "webhook_url": None, "email": None, "is_default": True,
                     "webhook_secret": None}
    refused = n.http.put("/notifications/preferences/pro-nouveau",
                         json={"channels": ["email"]})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "request.invalid"
    assert "adresse e-mail" in refused.text
    n.prefer("pro-nouveau", channels=["email", "sse"], email="lea.exemple@exemple.invalid")
    kept = n.http.get("/notifications/preferences/pro-nouveau").json()
    assert kept["channels"] == ["sse", "email"] and kept["is_default"] is False


def test_the_same_code_delivers_in_the_embedded_mode_on_sqlite(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """SQLite, no Kafka: the projection is fed from a journal-like log, the secret is generated
    on first start and kept."""
    db = SqliteDatabase(tmp_path / "views.sqlite")
    clock = FakeClock()
    options = NotificationSettings(webhook_allow_loopback_http=True)
    service = build_embedded(db, every_file_readable, lambda _: TERRITORY, options, clock)
    build_embedded(db, every_file_readable, lambda _: TERRITORY, options, clock)  # a restart
    secret = SECRET
    with db.transaction() as tx:
        store.put_preferences(tx, DR["professional_id"], Preferences(
            channels=["webhook", "sse"], webhook_url=receiver.url), clock())
        store.set_webhook_secret(tx, DR["professional_id"], secret, receiver.url, clock())
    raised = alert_raised([DR], stream_version=3)
    copy = alert_raised([DR], alert_id=uuid.UUID(str(raised.data["alert_id"])),
                        pathway_id=raised.pathway_id, stream_version=4)
    log = [(1, raised), (2, None), (3, raised), (4, copy)]
    projector = LogProjector(lambda start, limit: [e for e in log if e[0] >= start][:limit],
                             db, service.projection)
    assert projector.catch_up() == 2  # the exact copy is dropped by its version
    receiver.answer = 500
    assert service.dispatcher.run_once() == 1
    receiver.answer = 204
    clock.advance(30)
    assert service.dispatcher.run_once() == 1
    assert [r.answered for r in receiver.requests] == [500, 204]
    assert all(verify(secret, r.body, r.timestamp, r.signature) for r in receiver.requests)
    with db.transaction() as tx:
        found = store.deliveries(tx)
        streamed = store.stream_after(tx, DR["professional_id"], 0)
        still_open = store.stream_open(tx, DR["professional_id"], streamed[-1].seq)
    assert sorted((d.channel, d.status) for d in found) == [("sse", "sent"), ("webhook", "sent")]
    assert [d.alert.alert_id for d in streamed] == [raised.data["alert_id"]] == [
        d.alert.alert_id for d in still_open]


# -- kill -9 -----------------------------------------------------------------------------------

def start_process(settings: Settings, smtp: SmtpSink, port: int, log: Path,
                  failpoints: str = "", **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PARCOURS_MODE": "distributed",
        "PARCOURS_AUTH_PUBLIC_KEY": PUBLIC_KEY,
        "PARCOURS_DATABASE_URL": settings.database_url,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "PARCOURS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PARCOURS_ALERTS_TOPIC": settings.alerts_topic,
        "PARCOURS_HOST": "127.0.0.1",
        "PARCOURS_CONSUMER_MAX_POLL_RECORDS": "4",
        "PARCOURS_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "PARCOURS_NOTIFICATIONS_PORT": str(port),
        "PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
        "PARCOURS_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "PARCOURS_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
        "PARCOURS_NOTIFICATIONS_SMTP_ALLOW_PLAINTEXT": "true",
        "PARCOURS_NOTIFICATIONS_SMTP_TIMEOUT_S": "2",
        "PARCOURS_NOTIFICATIONS_WEBHOOK_TIMEOUT_S": "2",
        "PARCOURS_NOTIFICATIONS_CLAIM_S": "3",
        "PARCOURS_NOTIFICATIONS_DISPATCH_INTERVAL_S": "0.2",
        "PARCOURS_FAILPOINTS": failpoints,
        **env,
    }
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.notifications"],
                                env=environment, stdout=out, stderr=subprocess.STDOUT)


def test_killed_notifications_process_loses_nothing_and_sends_nothing_twice(
    alerts: Settings, tmp_path: Path
) -> None:
    arrivals = Arrivals()
    receiver, smtp = WebhookReceiver(arrivals=arrivals), SmtpSink(arrivals=arrivals)
    db = PostgresDatabase(alerts.database_url)
    try:
        prepare(db, NotificationsProjection(FakeClock()))
        with db.transaction() as tx:
            store.put_preferences(tx, DR["professional_id"], Preferences(
                channels=["sse", "webhook", "email"], webhook_url=receiver.url,
                email="claire.exemple@exemple.invalid"), START)
            store.put_preferences(tx, NURSE["professional_id"], Preferences(
                channels=["sse", "webhook"], webhook_url=receiver.url), START)
            for who in (DR, NURSE):
                store.set_webhook_secret(tx, who["professional_id"], SECRET, receiver.url, START)
        raised = [alert_raised([DR, NURSE]) for _ in range(30)]
        produce(alerts, raised)
        expected = {delivery_id(e, who, channel)
                    for e in raised for who, channel in
                    ((DR, "webhook"), (DR, "email"), (NURSE, "webhook"))}
        log, port = tmp_path / "notifications.log", free_port()

        # 1. killed right after its second intake commit (4 records per batch)
        first = start_process(alerts, smtp, port, log, "projection.after_commit=2",
                              PARCOURS_NOTIFICATIONS_DISPATCH_INTERVAL_S="60")
        assert first.wait(timeout=60) == -signal.SIGKILL, log.read_text()
        offsets = sum(stored_offsets(db, "notifications", alerts.alerts_topic).values())
        with db.transaction() as tx:
            alerts_in = tx.one("SELECT COUNT(*) FROM notification_alerts")
        assert alerts_in is not None and 0 < offsets == alerts_in[0] < 30  # committed together
        # Its dispatcher ran once at start, before any alert was in, then waits 60 s: nothing
        # should have been sent; if something was, only the last one can have been in flight.
        at_first_kill = arrivals.snapshot()[-1:]

        # 2. killed right after its 10th send, before recording it
        second = start_process(alerts, smtp, port, log, "notifications.after_send=10")
        assert second.wait(timeout=60) == -signal.SIGKILL, log.read_text()
        in_flight = arrivals.snapshot()[-1]  # sends are sequential: the last one arrived

        # 3. runs to the end
        last = start_process(alerts, smtp, port, log)
        try:
            def all_sent() -> bool:
                with db.transaction() as tx:
                    row = tx.one("SELECT COUNT(*) FROM notification_deliveries"
                                 " WHERE channel <> 'sse' AND status = 'sent'")
                return row is not None and row[0] == len(expected)
            wait_until(all_sent, 90, "every delivery to be sent")
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=ADMIN)
            wait_until(lambda: _answers(api), 30, "the process's API")
            served = api.get("/notifications/deliveries", params={"limit": 1000}).json()
            api.close()
        finally:
            assert _stop(last) == 0, log.read_text()

        received = Counter(arrivals.snapshot())
        assert {d for _, d in received} == expected, "an alert was lost"
        twice = {item: n for item, n in received.items() if n > 1}
        # The only double sends are the documented window: sent, then killed before the
        # record. The second process was killed exactly there, so its last send came twice;
        # nothing else did (bar, in theory, the first process's last send, if it sent any).
        assert twice.get(in_flight) == 2, (in_flight, twice)
        assert set(twice) <= {in_flight, *at_first_kill} and set(twice.values()) == {2}, twice
        with db.transaction() as tx:
            in_flight_log = store.log_of(tx, [in_flight[1]])[in_flight[1]]
        assert [e.outcome for e in in_flight_log] == ["sent"]  # the first send went unrecorded
        for channel, delivery in twice:
            # Both copies carry the same delivery id: receivers drop the second one.
            if channel == "email":
                copies = [m.message for m in smtp.mails
                          if m.message["X-Parcours-Delivery-Id"] == delivery]
                assert len(copies) == 2 and len({m["Message-ID"] for m in copies}) == 1
            else:
                assert sum(r.delivery_id == delivery for r in receiver.requests) == 2
        assert all(r.signature_valid for r in receiver.requests)
        assert sum(stored_offsets(db, "notifications", alerts.alerts_topic).values()) == 30
        assert len(served) == 30 * 5  # 3 sent + 2 stream deliveries per alert, each once
        assert Counter(d["status"] for d in served) == {"sent": 150}
    finally:
        receiver.close()
        smtp.close()
        db.close()


def _answers(api: httpx.Client) -> bool:
    try:
        return api.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)
