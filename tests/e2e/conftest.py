import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious
from shared.runtime.settings import Settings
from tests.conftest import bearer

HEADERS = bearer("coord-1", "coordinator")
MANAGER = bearer("gc-1", "case_manager")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # The rules' alerts fire when a test ticks the platform, not between two of its steps.
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var",
                              scheduler_interval_s=3600, alerts_at_once=False))
    with TestClient(app, headers=HEADERS) as test_client:
        open_territory(test_client)
        yield test_client


def open_territory(client: TestClient, headers: dict[str, str] = HEADERS) -> None:
    """A territory receives referrals once it has a case manager."""
    client.put(f"/territories/{fictitious.TERRITORY}/case-managers/gc-1",
               json={"name": "Gestionnaire gc-1"}, headers=headers).raise_for_status()


def referral_json(seed: int = 1) -> dict[str, Any]:
    """A referral form as a client sends it: who refers comes from the token."""
    body = fictitious.referral(random.Random(seed)).model_dump(mode="json",
                                                           exclude={"referral_id"})
    for signed_in in ("id", "name"):
        del body["referrer"][signed_in]
    return body
