"""Finding 1: a re-referral into another territory does not hand over the person's history.
Each episode belongs to its territory; the identity is shared, the clinical content is not,
until the origin territory's coordinator shares it when the person moves, with their consent."""

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import admit, dump, post, referred
from tests.e2e.conftest import referral_json

ELSEWHERE = "dac-autre-fictif"
COORD_A = bearer("coord-1", "coordinator")
COORD_B = bearer("coord-b", "coordinator", ELSEWHERE)
MANAGER_B = bearer("gc-b", "case_manager", ELSEWHERE)
PSYCHIATRY = "Psychiatrie adulte (fictif)"


def _moved(client: TestClient) -> str:
    """Followed in territory A with a psychiatric stay, closed, then referred in territory B."""
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    stay = dump(f.stay()) | {"ward": PSYCHIATRY}
    post(client, f"/pathways/{pathway}/hospitalisations", stay)
    post(client, f"/pathways/{pathway}/discharges", dump(f.discharge()))
    post(client, f"/pathways/{pathway}/closure",
         dump(f.closure()) | {"reason_code": "moved_out"})
    client.put(f"/territories/{ELSEWHERE}/case-managers/gc-b", json={"name": "Gestionnaire B"},
               headers=COORD_B).raise_for_status()
    again = referral_json(1) | {"referred_on": "2026-07-10", "territory": ELSEWHERE}
    answer = client.post("/pathways", json=again, headers=bearer("dr-b", "referrer", None))
    assert answer.status_code == 202, answer.text
    assert pathway not in answer.text  # the referrer is not told the person was known
    admit_b = client.post(f"/pathways/{pathway}/admission",
                          json={"decided_on": "2026-07-14", "case_manager_id": "gc-b"},
                          headers=COORD_B)
    assert admit_b.status_code == 200, admit_b.text
    return pathway


def _get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_new_territory_reads_only_its_own_episode(client: TestClient) -> None:
    pathway = _moved(client)
    for reader in (COORD_B, MANAGER_B):
        journal = _get(client, f"/pathways/{pathway}/journal", reader)
        assert PSYCHIATRY not in str(journal)
        assert {e["data"].get("territory") for e in journal if e["type"] == "Referred"} == {
            ELSEWHERE}
        episodes = _get(client, f"/pathways/{pathway}/episodes", reader)
        assert [e["number"] for e in episodes] == [2]
        assert _get(client, f"/pathways/{pathway}", reader)["person"]  # the identity is shared
    stays = _get(client, f"/fhir/Encounter?patient={pathway}", COORD_B)
    assert PSYCHIATRY not in str(stays)


def test_the_original_territory_keeps_its_episodes_and_its_access_log(
        client: TestClient) -> None:
    pathway = _moved(client)
    _get(client, f"/pathways/{pathway}", COORD_B)
    file = _get(client, f"/pathways/{pathway}", COORD_A)
    assert (file["status"], file["territory"], file["episode"]) == ("closed", f.TERRITORY, 1)
    journal = _get(client, f"/pathways/{pathway}/journal", COORD_A)
    assert PSYCHIATRY in str(journal)
    assert all(e["data"].get("territory") != ELSEWHERE for e in journal)
    assert [e["number"] for e in _get(client, f"/pathways/{pathway}/episodes", COORD_A)] == [1]
    log = _get(client, f"/pathways/{pathway}/access-log", COORD_A)
    assert any(r["actor_id"] == "coord-b" for r in log)
    answer = client.post(f"/pathways/{pathway}/notes", json=dump(f.note()), headers=COORD_A)
    assert answer.status_code == 403  # reads its own episode; acts on the new one, never


def test_sharing_is_an_explicit_act_of_the_origin_coordinator(client: TestClient) -> None:
    pathway = _moved(client)
    sharing = {"with_territory": ELSEWHERE, "consent_given_on": "2026-07-12"}
    refused = client.post(f"/pathways/{pathway}/sharing", json=sharing, headers=COORD_B)
    assert refused.status_code == 409, refused.text  # B shares only its own episodes
    assert [e["number"] for e in _get(client, f"/pathways/{pathway}/episodes", COORD_B)] == [2]
    post(client, f"/pathways/{pathway}/sharing", sharing, headers=COORD_A)
    journal = _get(client, f"/pathways/{pathway}/journal", COORD_B)
    assert PSYCHIATRY in str(journal)
    shared = next(e for e in journal if e["type"] == "EpisodesShared")
    assert (shared["actor"]["id"], shared["data"]["consent_given_on"]) == ("coord-1",
                                                                           "2026-07-12")
    assert shared["occurred_at"] < datetime.now().astimezone().isoformat()
    assert [e["number"] for e in _get(client, f"/pathways/{pathway}/episodes", COORD_B)] == [
        1, 2]
