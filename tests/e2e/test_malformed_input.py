"""Whatever a client sends, a user's mistake is never a 500: every command of the OpenAPI
description is sent bodies of the wrong shape, and answers with the error format."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.e2e.api import admit, manager
from tests.e2e.conftest import HEADERS, referral_json

BAD_BODIES: list[Any] = [
    None, [], "texte", 42, {}, {"inattendu": True},
    {"decided_on": "pas une date", "case_manager_id": 12},
    {"revision": -1, "problems": "aucun"},
    {"joined_on": "2026-02-30", "member": {"role": "astronaute"}},
    {"admitted_at": "2026-03-01T10:00:00", "kind": "emergency", "establishment": "x" * 10_000},
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", scheduler_interval_s=3600,
                        alerts_at_once=False)
    # A loopback base URL: the development login answers loopback hosts only.
    with TestClient(create_app(settings), headers=HEADERS, base_url="http://127.0.0.1",
                    raise_server_exceptions=False) as test_client:
        yield test_client


def test_no_command_answers_500_to_a_malformed_body(client: TestClient) -> None:
    manager(client, "gc-1")
    created = client.post("/pathways", json=referral_json(1))
    pathway = created.json()["pathway_id"]
    admit(client, pathway, "gc-1")
    values = {"pathway_id": pathway, "territory": f.TERRITORY, "case_manager_id": "gc-9",
              "revision": "1", "before": "1", "after": "1", "member_id": "gp-1",
              "professional_id": "coord-1",
              "alert_id": "00000000-0000-4000-8000-000000000000",
              "vigilance_id": "00000000-0000-4000-8000-000000000000",
              "referral_id": "00000000-0000-4000-8000-000000000000",
              "delivery_id": "00000000-0000-4000-8000-000000000000", "channel": "webhook",
              "resource_id": "00000000-0000-4000-8000-000000000000-1"}
    checked = 0
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        for method, operation in operations.items():
            if method not in ("post", "put") or "requestBody" not in operation \
                    or template.startswith("/fhir/"):  # a search, in FHIR's error shape
                continue
            for body in BAD_BODIES:
                response = client.request(method.upper(), path, json=body)
                assert response.status_code < 500, (method, template, body, response.text)
                assert response.json()["error"]["code"], (method, template, body)
                checked += 1
            raw = client.request(method.upper(), path, content=b"{not json",
                                 headers={"Content-Type": "application/json"})
            assert raw.status_code == 422, (method, template, raw.text)
    assert checked > 100
