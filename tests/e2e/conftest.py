import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parcours.web import create_app
from shared import fictitious
from shared.settings import Settings
from tests.conftest import bearer

HEADERS = bearer("coord-1", "coordinator")
MANAGER = bearer("gc-1", "case_manager")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var"))
    with TestClient(app, headers=HEADERS) as test_client:
        yield test_client


def referral_json(seed: int = 1) -> dict[str, Any]:
    return fictitious.referral(random.Random(seed)).model_dump(mode="json")
