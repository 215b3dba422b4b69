"""The notifier's part of the fault suite (``test_faults``): professionals of the care circle
subscribed to webhooks on receivers of their own (127.0.0.1), and the checks that every alert
raised through the faults reached each of them, once.

What the notifier promises (``services/notifications/README.md``, "Guarantees"): at least once,
never twice, except one window — a notifier *process* killed between a send and its record
sends that delivery again, with the same delivery id. The suite kills the servers, never the
notifier, so that window never opens: a delivery that arrives twice is a failure."""

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import psycopg

from services.notifications.store import delivery_id_for
from shared import fictitious as f
from shared.domain.principal import Role
from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.integration.conftest import META
from tests.integration.notification_helpers import WebhookReceiver

# Who subscribes: the case manager of every pathway of the suite, and a nurse who joins the
# care circle of the pathways whose patients go in and out of hospital (R1 and R2 go to the
# whole circle).
# (The nurse signs in as a referrer: the platform's role for professionals outside the team.)
SUBSCRIBERS: dict[str, Role] = {"gc-1": "case_manager", "nurse-1": "referrer"}


def patients(journal: Journal, count: int) -> list[str]:
    """Pathways referred and admitted today, followed by gc-1, with nurse-1 in the care circle:
    none of their deadlines is due yet, so the only alerts during the load are those its stays
    raise at once (R1, R2). (Older pathways would also fire clearable deadlines from the past at
    the scheduler's first tick, while their stays clear them.)"""
    rng = random.Random(12)
    today = datetime.now(UTC).date()
    followed = journal.territory(f.TERRITORY).load("gc-1")
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", followed + count, META)
    found = []
    for _ in range(count):
        pathway_id = journal.refer(f.referral(rng, referred_on=today), META)
        journal.admit(pathway_id, f.admission(today), "gc-1", META)
        joined = f.member("nurse-1", "nurse").model_copy(update={"joined_on": today})
        journal.join_care_circle(pathway_id, joined, META)
        found.append(str(pathway_id))
    return found


def notifier_env(port: int) -> dict[str, str]:
    """The notifier's settings for the suite: webhooks to loopback in plain http (tests only),
    a short round, and a claim that expires soon enough for the suite to see a lost one sent."""
    return {"PARCOURS_NOTIFICATIONS_PORT": str(port),
            "PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
            "PARCOURS_NOTIFICATIONS_DISPATCH_INTERVAL_S": "0.2",
            "PARCOURS_NOTIFICATIONS_WEBHOOK_TIMEOUT_S": "5",
            "PARCOURS_NOTIFICATIONS_CLAIM_S": "20"}


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def subscribe(base: str, receivers: dict[str, WebhookReceiver]) -> None:
    """Each professional chooses the webhook (and the stream) through the notifier's API, as a
    professional does; each receiver keeps the secret shown once, to check the signatures."""
    for professional, receiver in receivers.items():
        chosen = httpx.put(f"{base}/notifications/preferences/{professional}",
                           headers=bearer(professional, SUBSCRIBERS[professional]),
                           json={"channels": ["sse", "webhook"], "webhook_url": receiver.url},
                           timeout=10)
        assert chosen.status_code == 200, chosen.text
        receiver.secret = chosen.json()["webhook_secret"]


def expected_deliveries(stored: Iterable[EventEnvelope]) -> dict[str, tuple[str, str]]:
    """delivery id → (alert id, professional): one per raised alert and subscribed recipient."""
    expected = {}
    for event in stored:
        if event.type != "AlertRaised":
            continue
        alert_id = str(event.data["alert_id"])
        for recipient in event.data["recipients"]:
            professional = recipient["professional_id"]
            if professional in SUBSCRIBERS:
                expected[delivery_id_for(alert_id, professional, "webhook")] = \
                    (alert_id, professional)
    return expected


def webhook_rows(settings: Settings) -> dict[str, str]:
    """delivery id → status of every webhook delivery the notifier stored."""
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        return {str(d): str(s) for d, s in conn.execute(
            "SELECT delivery_id, status FROM notification_deliveries WHERE channel = 'webhook'")}


def all_delivered(settings: Settings, stored: list[EventEnvelope],
                  receivers: dict[str, WebhookReceiver]) -> bool:
    """Every webhook delivery of every raised alert is stored, recorded as sent (or cancelled:
    resolved before its send), and every sent one has arrived."""
    rows = webhook_rows(settings)
    expected = expected_deliveries(stored)
    if not set(expected) <= set(rows) or "pending" in rows.values():
        return False
    arrived = {r.delivery_id for receiver in receivers.values() for r in receiver.requests}
    return {d for d, status in rows.items() if status == "sent"} <= arrived


@dataclass
class Delivered:
    alerts: int
    expected: int
    arrived: int
    cancelled: int
    duplicates: int


def assert_each_alert_delivered_once(settings: Settings, stored: list[EventEnvelope],
                                     receivers: dict[str, WebhookReceiver]) -> Delivered:
    """Every raised alert reached each subscribed recipient's webhook, signed with that
    recipient's secret, exactly once (by delivery id and by alert); none other arrived."""
    expected = expected_deliveries(stored)
    assert expected, "no alert for a subscriber: the checks below would prove nothing"
    rows = webhook_rows(settings)
    assert set(rows) == set(expected), "webhook deliveries that no raised alert explains"
    cancelled = {d for d, status in rows.items() if status == "cancelled"}
    assert {s for d, s in rows.items() if d not in cancelled} == {"sent"}, Counter(rows.values())

    arrived: Counter[str] = Counter()
    by_alert: Counter[tuple[str, str]] = Counter()
    for professional, receiver in receivers.items():
        for request in receiver.requests:
            document = json.loads(request.body)
            assert document["delivery_id"] == request.delivery_id
            assert document["recipient"]["professional_id"] == professional
            assert request.signature_valid, f"{request.delivery_id}: bad signature"
            arrived[request.delivery_id] += 1
            by_alert[(document["alert"]["alert_id"], professional)] += 1
    twice = {d: n for d, n in arrived.items() if n > 1}
    assert not twice, f"deliveries sent more than once: {twice}"
    assert not {k: n for k, n in by_alert.items() if n > 1}, "an alert delivered twice"
    assert set(arrived) == set(expected) - cancelled, (
        f"missing: {sorted(set(expected) - cancelled - set(arrived))[:5]}, "
        f"unexpected: {sorted(set(arrived) - set(expected))[:5]}")
    assert not cancelled & set(arrived), "a cancelled delivery was sent"
    return Delivered(alerts=len({alert for alert, _ in expected.values()}),
                     expected=len(expected), arrived=sum(arrived.values()),
                     cancelled=len(cancelled), duplicates=sum(arrived.values()) - len(arrived))
