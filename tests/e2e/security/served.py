"""A real embedded platform served on loopback, for the tests that read its alert streams over
HTTP; its clock is the test's."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared.api.server import ApiServer
from shared.runtime.settings import Settings
from tests.e2e.api import manager
from tests.e2e.conftest import HEADERS
from tests.e2e.test_ruptures_api import Clock, Platform
from tests.integration.notification_helpers import SseClient, free_port


@dataclass
class Served:
    platform: Platform
    port: int

    def stream(self, who: str, headers: dict[str, str],
               last_event_id: str | None = None) -> SseClient:
        return SseClient(f"http://127.0.0.1:{self.port}/notifications/stream/{who}",
                         last_event_id, headers)

    def mark(self, who: str, headers: dict[str, str]) -> None:
        """A notice on the reader's stream, after everything before it."""
        for channels in (["sse", "email"], ["sse"]):
            answer = self.platform.client.put(
                f"/notifications/preferences/{who}", headers=headers,
                json={"channels": channels, "email": f"{who}@exemple.invalid"})
            assert answer.status_code == 200, answer.text

    def streamed_records(self, who: str, pathway: str) -> int:
        answer = self.platform.client.get(f"/pathways/{pathway}/access-log")
        assert answer.status_code == 200, answer.text
        return sum(1 for r in answer.json()
                   if (r["actor_id"], r["action"]) == (who, "alert stream"))


def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The platform with gc-1 registered, served until the test ends (``served`` fixture)."""
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_SSE_POLL_S", "0.1")
    clock = Clock()
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var", demo_on_empty=False,
                              scheduler_interval_s=3600, alerts_at_once=False,
                              future_date_tolerance_days=400), clock)
    port = free_port()
    server = ApiServer(app, "127.0.0.1", port).start()
    try:
        client = TestClient(app, headers=HEADERS)
        manager(client, "gc-1")
        yield Served(Platform(client, clock), port)
    finally:
        server.stop()


