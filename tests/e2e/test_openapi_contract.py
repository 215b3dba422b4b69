"""Finding 10: the OpenAPI description tells the truth. Schemathesis generates requests for
every operation (a bounded number each) against the embedded platform served on loopback, with
a coordinator's token and real ids: no server error, no response off its schema, no status the
description does not declare."""

import random
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.api.server import ApiServer
from shared.runtime.settings import Settings
from tests.e2e.conftest import HEADERS, referral_json
from tests.integration.notification_helpers import free_port, wait_until

# The description as the application publishes it (building the app starts nothing; its
# session key goes to a throw-away folder, never into the repository).
_throw_away = Path(tempfile.mkdtemp(prefix="parcours-openapi-"))
schema = schemathesis.openapi.from_dict(
    create_app(Settings(mode="embedded", data_dir=_throw_away)).openapi()
).exclude(path="/notifications/stream/{professional_id}")  # never ends: tested elsewhere

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]


class Served:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.app = create_app(Settings(mode="embedded", data_dir=tmp / "var",
                                       demo_on_empty=False))
        self.server = ApiServer(self.app, "127.0.0.1", self.port).start()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ids = self._seed()

    def _seed(self) -> dict[str, str]:
        """Real ids for the path parameters: a followed person with an alert."""
        with httpx.Client(base_url=self.base, headers=HEADERS, timeout=30) as http:
            http.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                     json={"name": "Gestionnaire Un"}).raise_for_status()
            referral = referral_json(1)
            pathway = http.post("/pathways", json=referral).json()["pathway_id"]
            http.post(f"/pathways/{pathway}/admission",
                      json={"decided_on": "2026-01-20", "case_manager_id": "gc-1"}
                      ).raise_for_status()
            http.post(f"/pathways/{pathway}/care-circle",
                      json=f.member("gp-1").model_dump(mode="json")).raise_for_status()
            stay = f.stay(datetime.now(UTC).replace(microsecond=0)).model_dump(mode="json")
            http.post(f"/pathways/{pathway}/hospitalisations", json=stay).raise_for_status()
            wait_until(lambda: bool(http.get("/alerts").json()), 30, "the R1 alert")
            alert = http.get("/alerts").json()[0]["alert_id"]
        return {"pathway_id": pathway, "territory": f.TERRITORY, "case_manager_id": "gc-1",
                "member_id": "gp-1", "professional_id": "coord-1", "alert_id": alert,
                "revision": "1", "before": "1", "after": "1"}

    def close(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = Served(tmp_path_factory.mktemp("contract"))
    yield running
    running.close()


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_what_it_declares(case: Any, served: Served) -> None:
    parameters = case.path_parameters or {}
    for name in list(parameters):
        # Half the time a real id, so that requests get past "not found" to the real work.
        if name in served.ids and random.Random(str(case.body)).random() < 0.5:
            parameters[name] = served.ids[name]
    case.call_and_validate(base_url=served.base, headers=dict(HEADERS), checks=CHECKS,
                           timeout=30)
