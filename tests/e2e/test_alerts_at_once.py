"""Embedded mode: a hospitalisation wakes the scheduler, so its alert (R1) is recorded and
the open streams are woken without waiting for the scheduler's next tick (here an hour away)
and without anyone reading."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.e2e.conftest import HEADERS, MANAGER, open_territory, referral_json


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var",
                              scheduler_interval_s=3600))
    with TestClient(app, headers=HEADERS) as test_client:
        open_territory(test_client)
        yield test_client


def _recorded_alerts(client: TestClient, pathway_id: str) -> list[str]:
    journal = client.get(f"/pathways/{pathway_id}/journal", headers=MANAGER).json()
    return [e["data"]["rule"] for e in journal if e["type"] == "AlertRaised"]


def test_a_hospitalisation_raises_its_alert_at_once(client: TestClient) -> None:
    today = datetime.now(UTC).date()
    pathway_id = client.post("/pathways", json={**referral_json(), "referred_on": str(today)}
                             ).json()["pathway_id"]
    client.post(f"/pathways/{pathway_id}/admission",
                json={"decided_on": str(today), "case_manager_id": "gc-1"}).raise_for_status()
    hub = client.app.state.notifications.hub  # type: ignore[attr-defined]
    seen = hub.version

    stay = f.stay(datetime.now(UTC)).model_dump(mode="json")
    client.post(f"/pathways/{pathway_id}/hospitalisations", json=stay,
                headers=MANAGER).raise_for_status()

    deadline = time.monotonic() + 10
    while not _recorded_alerts(client, pathway_id):  # reads catch up; only ticks fire
        assert time.monotonic() < deadline, "R1 waited for the scheduler's tick"
        time.sleep(0.02)
    assert _recorded_alerts(client, pathway_id) == ["R1"]
    while hub.version == seen:
        assert time.monotonic() < deadline, "the open streams were not woken"
        time.sleep(0.02)
