"""A referral as its sender follows it (``GET /referrals/{id}``), and the repeat referrals the
territory's coordinator resolves (issue 19, finding 9), through the API."""

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import admit, dump, post
from tests.e2e.conftest import HEADERS, MANAGER, referral_json

GP = bearer("dr-orienteur", "referrer", None)
OTHER_GP = bearer("dr-autre", "referrer", None)
ELSEWHERE = bearer("coord-b", "coordinator", "dac-autre-fictif")
NURSE = bearer("nurse-1", "referrer", None)
REFUSAL = {"decided_on": "2026-01-20", "reason_code": "criteria_not_met",
           "reason": "Critère 3 non rempli",
           "orientation": {"to": "CCAS fictif", "kind": "service"}}


def _sent(client: TestClient, seed: int, who: dict[str, str] = GP,
          person: dict[str, Any] | None = None, **changes: Any) -> str:
    body = referral_json(seed) | changes
    body["person"] |= person or {}
    answer = client.post("/pathways", json=body, headers=who)
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["referral_id"]
    return referral_id


def _followed(client: TestClient, seed: int = 1) -> str:
    """Referred by the coordinator, admitted with gc-1, a nurse in the care circle."""
    pathway: str = post(client, "/pathways", referral_json(seed), 201)["pathway_id"]
    admit(client, pathway, "gc-1")
    post(client, f"/pathways/{pathway}/care-circle", dump(f.member("nurse-1", "nurse")))
    return pathway


def _receipt(client: TestClient, referral_id: str, who: dict[str, str] = GP) -> Response:
    return client.get(f"/referrals/{referral_id}", headers=who)


def _repeats(client: TestClient, pathway: str) -> Any:
    answer = client.get(f"/pathways/{pathway}/repeat-referrals")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _resolve(client: TestClient, pathway: str, referral_id: str, outcome: str = "joined",
             who: dict[str, str] = HEADERS) -> Response:
    return client.post(f"/pathways/{pathway}/repeat-referrals/{referral_id}/resolution",
                       json={"outcome": outcome, "comment": "Vu avec le médecin"}, headers=who)


def test_the_coordinator_resolves_a_repeat_referral_once(client: TestClient) -> None:
    pathway = _followed(client)
    before = client.get(f"/pathways/{pathway}").json()
    referral_id = _sent(client, 1)
    (repeat,) = _repeats(client, pathway)
    assert repeat["referral"]["referral_id"] == referral_id
    assert repeat["referral"]["reason"] == "already_followed"
    assert repeat["referral"]["referrer"]["id"] == "dr-orienteur"
    assert repeat["outcome"] is None
    after = client.get(f"/pathways/{pathway}").json()
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"}  # the episode is unchanged

    board = client.get(f"/caseload/territories/{f.TERRITORY}").json()
    (listed,) = board["repeat_referrals"]
    assert (listed["referral_id"], listed["pathway_id"], listed["reason"],
            listed["sender_id"]) == (referral_id, pathway, "already_followed", "dr-orienteur")
    assert pathway not in str(board["awaiting_decision"])  # nothing to admit

    assert _receipt(client, referral_id).json()["status"] == "received"
    resolved = _resolve(client, pathway, referral_id, "joined")
    assert resolved.status_code == 200, resolved.text
    again = _resolve(client, pathway, referral_id, "declined")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "repeat_referral.already_resolved"
    unknown = _resolve(client, pathway, "00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 409, unknown.text
    assert unknown.json()["error"]["code"] == "repeat_referral.unknown"

    (repeat,) = _repeats(client, pathway)
    assert (repeat["outcome"], repeat["resolved_by"]) == ("joined", "coord-1")
    board = client.get(f"/caseload/territories/{f.TERRITORY}").json()
    assert board["repeat_referrals"] == []
    receipt = _receipt(client, referral_id).json()
    assert receipt["status"] == "joined" and receipt["decided_on"]


def test_only_the_territorys_coordinator_resolves(client: TestClient) -> None:
    pathway = _followed(client)
    referral_id = _sent(client, 1)
    for reader in (MANAGER, NURSE):  # they read the file, they do not decide
        refused = _resolve(client, pathway, referral_id, who=reader)
        assert refused.status_code == 403, refused.text
    for outsider in (ELSEWHERE, GP, OTHER_GP):  # the file does not exist for them
        refused = _resolve(client, pathway, referral_id, who=outsider)
        assert refused.status_code == 404, refused.text
        listed = client.get(f"/pathways/{pathway}/repeat-referrals", headers=outsider)
        assert listed.status_code == 404, listed.text
    listed = client.get(f"/pathways/{pathway}/repeat-referrals", headers=MANAGER)
    assert listed.status_code == 404, listed.text  # the commission's, not the case file's
    assert _repeats(client, pathway)[0]["outcome"] is None


def test_repeat_referrals_are_in_the_coordinations_journal_only(client: TestClient) -> None:
    pathway = _followed(client)
    _sent(client, 1, person={"family_name": "Autrenom"})  # another person's name, maybe
    kinds = {"ReferralReceivedAgain"}
    for reader in (MANAGER, NURSE):
        journal = client.get(f"/pathways/{pathway}/journal", headers=reader).json()
        assert not kinds & {e["type"] for e in journal}
        assert "Autrenom" not in str(journal)
    journal = client.get(f"/pathways/{pathway}/journal").json()
    assert kinds <= {e["type"] for e in journal}
    (repeat,) = _repeats(client, pathway)
    assert repeat["referral"]["reason"] == "identity_differs"
    assert repeat["referral"]["differing_traits"] == ["family_name"]
    assert client.get(f"/pathways/{pathway}").json()["person"]["family_name"] != "Autrenom"


def test_a_receipt_is_its_senders_alone(client: TestClient) -> None:
    referral_id = _sent(client, 4)
    assert _receipt(client, referral_id).json() == {
        "referral_id": referral_id, "status": "received", "decided_on": None}
    unknown = _receipt(client, "00000000-0000-4000-8000-000000000000")
    for other in (OTHER_GP, HEADERS, MANAGER):
        answer = _receipt(client, referral_id, other)
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == unknown.json()["error"]["code"]
        assert answer.json()["error"]["message"] == unknown.json()["error"]["message"]
        assert set(answer.headers) == set(unknown.headers)


def test_a_receipt_gives_the_decision_on_its_own_episode_only(client: TestClient) -> None:
    pathway = _followed(client, 2)
    first = _sent(client, 3)
    post(client, f"/pathways/{pathway}/closure", dump(f.closure()))
    again = _sent(client, 2, referred_on="2026-07-10")  # the next episode
    waiting = client.get(f"/caseload/territories/{f.TERRITORY}").json()
    assert pathway in str(waiting)  # the coordinator has the new episode to decide
    assert _receipt(client, again).json()["status"] == "received"
    post(client, f"/pathways/{pathway}/admission",
         {"decided_on": "2026-07-15", "case_manager_id": "gc-1"})
    receipt = _receipt(client, again)
    assert receipt.json() == {"referral_id": again, "status": "admitted",
                              "decided_on": "2026-07-15"}
    assert pathway not in receipt.text

    # The sender of the person of seed 3 learns the refusal of their referral.
    refused = [p["pathway_id"] for p in waiting["awaiting_decision"]
               if p["pathway_id"] != pathway]
    for pathway_id in refused:
        post(client, f"/pathways/{pathway_id}/refusal", REFUSAL)
    assert _receipt(client, first).json()["status"] == "refused"


def test_the_sender_of_a_repeat_gains_no_right_on_the_file(client: TestClient) -> None:
    pathway = _followed(client)
    _sent(client, 1, OTHER_GP)
    for path in ("", "/referral", "/journal", "/episodes"):
        answer = client.get(f"/pathways/{pathway}{path}", headers=OTHER_GP)
        assert answer.status_code == 404, (path, answer.text)


def test_reading_a_receipt_is_in_the_files_access_log(client: TestClient) -> None:
    pathway = _followed(client)
    referral_id = _sent(client, 1)
    _receipt(client, referral_id)
    _receipt(client, referral_id, OTHER_GP)
    log = client.get(f"/pathways/{pathway}/access-log").json()
    reads = [(r["actor_id"], r["outcome"]) for r in log if r["action"] == "referral-receipt"]
    assert reads == [("dr-orienteur", "allowed"), ("dr-autre", "refused")]
