"""Issue 19, finding 9: a referring professional could learn whether a person was already
followed by referring them. An open pathway answered 409 ``pathway.already_open``; a closed
or refused one answered 201 with the old pathway's id and version, which also told that there
had been earlier episodes. The attack: refer a new person, a person followed now, one whose
pathway is closed, one refused, and a known INS with other identity traits, and compare the
answers. They must be the same answer: status, body, headers; no pathway id, no version."""

import re
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import admit, dump, post
from tests.e2e.conftest import referral_json

ATTACKER = bearer("dr-curieux", "referrer", None)
AFTER_CLOSURE = "2026-07-10"  # the fixtures' closure is on 2026-06-30
REFUSAL = {"decided_on": "2026-01-20", "reason_code": "criteria_not_met",
           "reason": "Critère 3 non rempli",
           "orientation": {"to": "CCAS fictif", "kind": "service"}}
FUTURE = (date.today() + timedelta(days=30)).isoformat()
UUID_TEXT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _known(client: TestClient) -> dict[str, str]:
    """Three persons the DAC knows, referred by its coordinator: followed now, closed,
    refused."""
    followed = post(client, "/pathways", referral_json(1), 201)["pathway_id"]
    admit(client, followed, "gc-1")
    closed = post(client, "/pathways", referral_json(2), 201)["pathway_id"]
    admit(client, closed, "gc-1")
    post(client, f"/pathways/{closed}/closure", dump(f.closure()))
    refused = post(client, "/pathways", referral_json(3), 201)["pathway_id"]
    post(client, f"/pathways/{refused}/refusal", REFUSAL)
    return {"followed": followed, "closed": closed, "refused": refused}


def _referral(seed: int, **person: Any) -> dict[str, Any]:
    body = referral_json(seed) | {"referred_on": AFTER_CLOSURE}
    body["person"] |= person
    return body


def _shape(answer: Response) -> tuple[Any, ...]:
    """The answer with its one expected difference, the new referral's id, taken out."""
    body = answer.json()
    referral_id = str(body.get("referral_id", ""))
    headers = {name.lower(): value.replace(referral_id, "<id>") if referral_id else value
               for name, value in answer.headers.items() if name.lower() != "date"}
    return (answer.status_code, sorted(body), body.get("status"), headers,
            answer.text.replace(referral_id, "<id>") if referral_id else answer.text)


def test_a_referrer_gets_the_same_answer_whether_or_not_the_person_is_known(
        client: TestClient) -> None:
    known = _known(client)
    answers = {
        "new person": client.post("/pathways", json=_referral(4), headers=ATTACKER),
        "followed now": client.post("/pathways", json=_referral(1), headers=ATTACKER),
        "closed": client.post("/pathways", json=_referral(2), headers=ATTACKER),
        "refused": client.post("/pathways", json=_referral(3), headers=ATTACKER),
        "known INS, other traits": client.post(
            "/pathways", json=_referral(1, family_name="Autrenom", birth_date="1931-03-03"),
            headers=ATTACKER),
    }
    shapes = {case: _shape(answer) for case, answer in answers.items()}
    assert len(set(map(repr, shapes.values()))) == 1, shapes  # indistinguishable

    for case, answer in answers.items():
        assert answer.status_code == 202, (case, answer.text)
        body = answer.json()
        assert set(body) == {"referral_id", "status"} and body["status"] == "received", case
        assert re.fullmatch(UUID_TEXT, body["referral_id"]), case
        assert answer.headers["Location"] == f"/referrals/{body['referral_id']}", case
        assert "etag" not in {name.lower() for name in answer.headers}, case  # no version
        seen = answer.text + repr(answer.headers)
        for pathway_id in known.values():
            assert pathway_id not in seen, (case, pathway_id)
        assert "version" not in seen.lower() and "pathway" not in seen.lower(), case

    # The receipt each one's Location names says the same too, until the DAC decides.
    receipts = {case: client.get(answer.headers["Location"], headers=ATTACKER)
                for case, answer in answers.items()}
    assert len(set(map(repr, (_shape(r) for r in receipts.values())))) == 1
    for case, receipt in receipts.items():
        assert receipt.status_code == 200, (case, receipt.text)
        assert receipt.json() == {"referral_id": answers[case].json()["referral_id"],
                                  "status": "received", "decided_on": None}


def test_a_referral_sent_again_is_answered_as_the_first_time(client: TestClient) -> None:
    known = _known(client)
    for seed in (1, 4):  # a person followed now, a new one
        key = {"Idempotency-Key": f"fiche-{seed}"}
        first = client.post("/pathways", json=_referral(seed), headers=ATTACKER | key)
        again = client.post("/pathways", json=_referral(seed), headers=ATTACKER | key)
        assert (first.status_code, again.status_code) == (202, 202), again.text
        assert again.json() == first.json()
        assert again.headers["Location"] == first.headers["Location"]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert known["followed"] not in again.text + repr(again.headers)


def test_what_does_not_depend_on_the_person_is_still_told(client: TestClient) -> None:
    _known(client)
    for seed in (1, 4):  # followed now, new: the same mistakes, the same answers
        future = client.post("/pathways", json=_referral(seed) | {"referred_on": FUTURE},
                             headers=ATTACKER)
        assert future.status_code == 422, future.text
        assert future.json()["error"]["code"] == "date.in_future"
        nowhere = client.post("/pathways", json=_referral(seed) | {"territory": "dac-inconnu"},
                              headers=ATTACKER)
        assert nowhere.status_code == 422, nowhere.text
        assert nowhere.json()["error"]["code"] == "territory.unknown"
        invalid = client.post("/pathways", json=_referral(seed) | {"consent": None},
                              headers=ATTACKER)
        assert invalid.status_code == 422, invalid.text
    texts = set()
    for seed in (1, 4):
        answer = client.post("/pathways", json=_referral(seed) | {"referred_on": FUTURE},
                             headers=ATTACKER)
        texts.add(answer.text)
    assert len(texts) == 1
