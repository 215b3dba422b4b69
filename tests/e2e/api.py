"""Small helpers to drive the API in tests."""

import random
from typing import Any

from fastapi.testclient import TestClient

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.conftest import referral_json


def post(client: TestClient, path: str, body: Any, status: int = 200,
         headers: dict[str, str] | None = None) -> Any:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def facts(client: TestClient, pathway_id: str) -> int:
    """How many facts the journal holds, the rules' alerts aside (they fire on their own)."""
    return sum(1 for e in client.get(f"/pathways/{pathway_id}/journal").json()
               if not e["type"].startswith("Alert"))


def rule(client: TestClient, path: str, body: Any, code: str) -> None:
    """Posts a command a rule forbids, and checks that nothing was stored."""
    pathway_id = path.split("/")[2]
    before = facts(client, pathway_id)
    error = post(client, path, body, 409)["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert facts(client, pathway_id) == before


def manager(client: TestClient, manager_id: str, capacity: int | None = None) -> None:
    body: dict[str, Any] = {"name": f"Gestionnaire {manager_id}"}
    if capacity is not None:
        body["capacity"] = capacity
    response = client.put(f"/territories/{f.TERRITORY}/case-managers/{manager_id}", json=body)
    assert response.status_code == 200, response.text


def referred(client: TestClient, seed: int) -> str:
    """Referred by the fixture's own referring professional, signed in. They are told the
    referral's id only (whether the person was known is not theirs to learn): the pathway is
    the one the platform holds for the person's INS, as the DAC finds it."""
    referral = f.referral(random.Random(seed))
    post(client, "/pathways", referral_json(seed), 202,
         headers=bearer(referral.referrer.id, "referrer", None))
    return pathway_of(client, referral.person.ins)


def pathway_of(client: TestClient, ins: str) -> str:
    """The pathway the embedded platform holds for an INS (the tests' view from inside)."""
    pathway_id = client.app.state.journal.pathway_of_person(ins)  # type: ignore[attr-defined]
    assert pathway_id is not None, ins
    return str(pathway_id)


def admit(client: TestClient, pathway_id: str, manager_id: str | None = None,
          status: int = 200) -> Any:
    body = {"decided_on": "2026-01-20"}
    if manager_id:
        body["case_manager_id"] = manager_id
    return post(client, f"/pathways/{pathway_id}/admission", body, status)


def view(client: TestClient, pathway_id: str) -> Any:
    return client.get(f"/pathways/{pathway_id}").json()


def dump(payload: Any) -> Any:
    return payload.model_dump(mode="json")


__all__ = ["admit", "dump", "f", "manager", "pathway_of", "post", "referred", "rule", "view"]
