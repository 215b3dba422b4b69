"""Finding 2: only the professional sets where their alerts go; an administrator may only
disable a channel, and the professional is told."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.api.server import ApiServer
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.api import dump, manager, post
from tests.e2e.conftest import HEADERS, MANAGER, referral_json
from tests.e2e.security.conftest import Outside
from tests.e2e.test_ruptures_api import STAY, Clock, Platform, followed, start
from tests.integration.notification_helpers import (
    SseClient,
    WebhookReceiver,
    free_port,
    wait_until,
)

ADMIN = bearer("admin-1", "administrator")
PREFERENCES = "/notifications/preferences/gc-1"


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             outside: Outside) -> Iterator[Platform]:
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP", "true")
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_MAX_ATTEMPTS", "1")
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        yield Platform(client, clock)


def _deliveries(platform: Platform) -> list[dict[str, Any]]:
    answer = platform.client.get("/notifications/deliveries", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return [d for d in answer.json() if d["channel"] == "webhook"]


def test_an_administrator_cannot_redirect_someone_s_alerts(platform: Platform) -> None:
    theirs = f"http://127.0.0.1:{free_port()}/gc-1"
    assert platform.client.put(PREFERENCES, headers=MANAGER, json={
        "channels": ["webhook"], "webhook_url": theirs}).status_code == 200
    receiver = WebhookReceiver()
    try:
        hijack = platform.client.put(PREFERENCES, headers=ADMIN, json={
            "channels": ["webhook"], "webhook_url": receiver.url})
        assert hijack.status_code == 403
        assert hijack.json()["error"]["code"] == "access.denied"
        for role in ("coordinator", "case_manager"):
            other = platform.client.put(PREFERENCES, headers=bearer("x-1", role), json={
                "channels": ["webhook"], "webhook_url": receiver.url})
            assert other.status_code == 403
        assert platform.client.get(PREFERENCES, headers=MANAGER).json()["webhook_url"] == theirs

        # The alert fails at the professional's own (dead) address and is a dead letter...
        pathway = followed(platform, 1)
        post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        platform.at(STAY + timedelta(minutes=1))
        wait_until(lambda: any(d["status"] == "dead" for d in _deliveries(platform)), 30,
                   "the dead letter")
        (dead,) = _deliveries(platform)
        # ...which an administrator may disable, not send elsewhere.
        disabled = platform.client.delete(f"{PREFERENCES}/channels/webhook", headers=ADMIN)
        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["channels"] == ["sse"]
        retried = platform.client.post(
            f"/notifications/dead-letters/{dead['delivery_id']}/retry", headers=ADMIN)
        assert retried.status_code == 409
        assert retried.json()["error"]["code"] == "delivery.channel_disabled"
        assert receiver.requests == []
    finally:
        receiver.close()


def _alerted_on_the_territory(base: str) -> None:
    """gc-1 follows a person of the territory and has an alert about them."""
    with httpx.Client(base_url=base, headers=HEADERS) as api:
        api.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                json={"name": "Gestionnaire Un"}).raise_for_status()
        pathway = api.post("/pathways", json=referral_json(1)).json()["pathway_id"]
        api.post(f"/pathways/{pathway}/admission", json={
            # Admitted today: by the real clock nothing else than the stay's alert is due.
            "decided_on": datetime.now(UTC).date().isoformat(),
            "case_manager_id": "gc-1"}).raise_for_status()
        stay = dump(f.stay(datetime.now(UTC) - timedelta(hours=1)))
        api.post(f"/pathways/{pathway}/hospitalisations", json=stay).raise_for_status()
        wait_until(lambda: bool(api.get("/notifications/deliveries", headers=ADMIN).json()),
                   10, "the alert's delivery")


def test_the_professional_is_told_on_their_stream_when_a_channel_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outside: Outside
) -> None:
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP", "true")
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_SSE_POLL_S", "0.1")
    port = free_port()
    server = ApiServer(create_app(Settings(mode="embedded", data_dir=tmp_path / "var",
                                           demo_on_empty=False)),
                       "127.0.0.1", port).start()
    try:
        base = f"http://127.0.0.1:{port}"
        _alerted_on_the_territory(base)  # the administrator's reach: their territory's alerts
        chosen = httpx.put(f"{base}{PREFERENCES}", headers=bearer("gc-1", "case_manager"),
                           json={"channels": ["sse", "webhook"],
                                 "webhook_url": f"http://127.0.0.1:{free_port()}/x"})
        assert chosen.status_code == 200, chosen.text
        stream = SseClient(f"{base}/notifications/stream/gc-1", headers=MANAGER)
        assert stream.status == 200
        assert [e["event"] for e in stream.wait_for(1)] == ["alert"]  # still open
        assert httpx.delete(f"{base}{PREFERENCES}/channels/webhook",
                            headers=ADMIN).status_code == 200
        notice = stream.wait_for(2)[1]
        assert notice["event"] == "notice"
        assert "administrateur (admin-1)" in notice["data"]
        assert "sse, webhook → sse" in notice["data"]
    finally:
        server.stop()
