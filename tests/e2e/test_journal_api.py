"""The journal through HTTP, on the embedded platform (SQLite, projections in process)."""


from fastapi.testclient import TestClient

from shared import fictitious as f
from tests.e2e.api import post
from tests.e2e.conftest import referral_json

ADMISSION = {"decided_on": "2026-01-20", "case_manager_id": "gc-1"}


def admitted(client: TestClient, seed: int = 1) -> str:
    client.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
               json={"name": "Gestionnaire Un"}).raise_for_status()
    pathway_id: str = post(client, "/pathways", referral_json(seed), 201)["pathway_id"]
    post(client, f"/pathways/{pathway_id}/admission", ADMISSION)
    return pathway_id


def test_a_pathway_from_referral_to_closure(client: TestClient) -> None:
    pathway_id = admitted(client)
    base = f"/pathways/{pathway_id}"
    post(client, f"{base}/evaluations", f.evaluation().model_dump(mode="json"))
    post(client, f"{base}/plan-revisions", f.plan().model_dump(mode="json"))
    post(client, f"{base}/hospitalisations", f.stay().model_dump(mode="json"))
    post(client, f"{base}/discharges", f.discharge().model_dump(mode="json"))
    closed = post(client, f"{base}/closure", f.closure().model_dump(mode="json"))
    assert closed["status"] == "closed"

    journal = client.get(f"{base}/journal").json()
    assert [e["type"] for e in journal] == [
        "Referred", "Admitted", "CaseManagerAssigned", "Evaluated", "PlanRevised",
        "Hospitalised", "Discharged", "Closed",
    ]
    assert [e["stream_version"] for e in journal] == list(range(1, 9))
    assert all(e["actor"] == {"id": "coord-1", "role": "coordinator"} for e in journal)
    hospitalised = journal[5]
    assert hospitalised["occurred_at"].startswith("2026-03-01T10:00")
    assert hospitalised["recorded_at"] > hospitalised["occurred_at"]

    then = client.get(base, params={"version": 6}).json()
    assert then["open_stay"]["establishment"] == "CH de Villefictive"
    assert client.get(base).json()["status"] == "closed"


def test_the_caseload_view_follows_the_journal(client: TestClient) -> None:
    first, second = admitted(client, 1), admitted(client, 2)
    post(client, "/pathways", referral_json(3), 201)
    post(client, f"/pathways/{second}/hospitalisations", f.stay().model_dump(mode="json"))

    loads = client.get("/caseload", params={"today": "2026-01-25"}).json()
    assert loads == {
        "case_managers": [{"case_manager_id": "gc-1", "case_manager_name": "Gestionnaire Un",
                           "active": 2, "in_hospital": 1, "evaluations_overdue": 0,
                           "plans_not_validated": 0, "open_alerts": 0}],
        "awaiting_decision": 1,
    }
    persons = client.get("/caseload/gc-1").json()["persons"]
    assert {p["pathway_id"] for p in persons} == {first, second}
    assert all(p["events_applied"] == p["version"] for p in persons)


def test_malformed_input_names_the_field_and_stores_nothing(client: TestClient) -> None:
    body = referral_json()
    body["person"]["ins"] = "123"
    error = post(client, "/pathways", body, 422)["error"]
    assert error["code"] == "request.invalid"
    assert error["details"]["fields"][0]["field"] == "body.person.ins"
    assert client.get("/caseload/awaiting-decision").json() == []


def test_no_token_no_answer(client: TestClient) -> None:
    response = client.post("/pathways", json=referral_json(), headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.required"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_broken_rule_answers_409_with_a_stable_code_and_stores_nothing(
    client: TestClient,
) -> None:
    pathway_id = post(client, "/pathways", referral_json(), 201)["pathway_id"]
    error = post(client, f"/pathways/{pathway_id}/hospitalisations",
                 f.stay().model_dump(mode="json"), 409)["error"]
    assert error["code"] == "pathway.not_admitted"
    assert len(client.get(f"/pathways/{pathway_id}/journal").json()) == 1


def test_a_second_referral_while_open_points_to_the_pathway(client: TestClient) -> None:
    pathway_id = post(client, "/pathways", referral_json(), 201)["pathway_id"]
    error = post(client, "/pathways", referral_json(), 409)["error"]
    assert error["code"] == "pathway.already_open"
    assert error["details"]["pathway_id"] == pathway_id


def test_if_match_with_a_stale_version_is_a_concurrent_change(client: TestClient) -> None:
    pathway_id = admitted(client)
    error = post(client, f"/pathways/{pathway_id}/hospitalisations",
                 f.stay().model_dump(mode="json"), 409, {"If-Match": '"1"'})["error"]
    assert error["code"] == "pathway.concurrent_change"
    assert error["details"]["current_version"] == 3
    post(client, f"/pathways/{pathway_id}/hospitalisations", f.stay().model_dump(mode="json"),
         200, {"If-Match": '"3"'})


def test_an_unknown_pathway_is_404(client: TestClient) -> None:
    response = client.get("/pathways/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "pathway.not_found"
