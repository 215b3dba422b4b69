"""A command sent again with the same Idempotency-Key is applied once and answered as the
first time; the same key with another request is refused (issue 12, item 3)."""

import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.api import admit, dump, facts, pathway_of, referred
from tests.e2e.conftest import HEADERS, open_territory, referral_json


def _noted(client: TestClient, pathway: str) -> int:
    return sum(1 for e in client.get(f"/pathways/{pathway}/journal").json()
               if e["type"] == "FollowUpNoted")


def _send(client: TestClient, path: str, body: Any, key: str,
          headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post(path, json=body, headers={**(headers or {}), "Idempotency-Key": key})


def test_the_same_key_twice_answers_the_first_answer_and_stores_one_event(
        client: TestClient) -> None:
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    first = _send(client, f"/pathways/{pathway}/notes", dump(f.note()), "note-1")
    assert first.status_code == 200, first.text
    before = facts(client, pathway)

    # The same request again, even with another layout and an If-Match now out of date.
    again = client.post(f"/pathways/{pathway}/notes",
                        content=_reordered(dump(f.note())),
                        headers={"Idempotency-Key": "note-1", "Content-Type": "application/json",
                                 "If-Match": first.headers["ETag"]})
    assert (again.status_code, again.json(), again.headers["ETag"]) == (
        first.status_code, first.json(), first.headers["ETag"])
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert facts(client, pathway) == before
    assert _noted(client, pathway) == 1

    # A new key is a new command.
    other = _send(client, f"/pathways/{pathway}/notes", dump(f.note()), "note-2")
    assert other.status_code == 200
    assert other.json()["version"] == first.json()["version"] + 1
    assert _noted(client, pathway) == 2


def _reordered(body: dict[str, Any]) -> bytes:
    import json
    return json.dumps(dict(reversed(list(body.items()))), indent=2).encode()


def test_the_same_key_with_another_body_is_refused(client: TestClient) -> None:
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    assert _send(client, f"/pathways/{pathway}/notes", dump(f.note()), "k").status_code == 200
    changed = {**dump(f.note()), "summary": "Un autre compte rendu (fictif)."}
    for path, body in ((f"/pathways/{pathway}/notes", changed),
                       (f"/pathways/{pathway}/evaluations", dump(f.evaluation()))):
        refused = _send(client, path, body, "k")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "idempotency.key_reused"
        assert "clé" in error["message"]
    assert _noted(client, pathway) == 1


def test_a_key_is_one_to_255_characters(client: TestClient) -> None:
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    for key in ("", "x" * 256):
        refused = _send(client, f"/pathways/{pathway}/notes", dump(f.note()), key)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "request.invalid"
        assert "idempotency-key" in str(refused.json()["error"]["details"]).lower()
    assert _send(client, f"/pathways/{pathway}/notes", dump(f.note()),
                 "k" + "x" * 254).status_code == 200
    assert _noted(client, pathway) == 1


def test_a_referral_sent_twice_opens_one_pathway(client: TestClient) -> None:
    referrer = bearer(f.referral(random.Random(3)).referrer.id, "referrer", None)
    first = _send(client, "/pathways", referral_json(3), "referral-3", referrer)
    assert first.status_code == 202, first.text
    again = _send(client, "/pathways", referral_json(3), "referral-3", referrer)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    pathway = pathway_of(client, referral_json(3)["person"]["ins"])
    journal = client.get(f"/pathways/{pathway}/journal").json()
    assert [e["type"] for e in journal] == ["Referred"]

    # Without the key, the same form sent again is a second referral: answered as the first
    # (the referrer does not learn the person is known), a repeat for the coordination.
    second = client.post("/pathways", json=referral_json(3), headers=referrer)
    assert second.status_code == 202, second.text
    assert second.json()["referral_id"] != first.json()["referral_id"]
    journal = client.get(f"/pathways/{pathway}/journal").json()
    assert [e["type"] for e in journal] == ["Referred", "ReferralReceivedAgain"]

    # The DAC's own staff are told the rule, with the pathway.
    staff = client.post("/pathways", json=referral_json(3))
    assert staff.status_code == 409, staff.text
    assert staff.json()["error"]["details"]["pathway_id"] == pathway


def test_keys_belong_to_whoever_sent_them(client: TestClient) -> None:
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    mine = _send(client, f"/pathways/{pathway}/notes", dump(f.note()), "shared-key",
                 bearer("gc-1", "case_manager"))
    theirs = _send(client, f"/pathways/{pathway}/notes", dump(f.note()), "shared-key", HEADERS)
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert theirs.json()["version"] == mine.json()["version"] + 1
    assert _noted(client, pathway) == 2


def test_the_same_command_sent_at_once_many_times_is_applied_once(client: TestClient) -> None:
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    senders = 8
    go = threading.Barrier(senders)
    answers: list[httpx.Response] = []

    def send() -> None:
        go.wait()
        answers.append(_send(client, f"/pathways/{pathway}/notes", dump(f.note()), "burst"))

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * senders, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == senders - 1
    assert _noted(client, pathway) == 1


def test_a_referral_sent_at_once_many_times_opens_one_pathway(client: TestClient) -> None:
    referrer = bearer(f.referral(random.Random(4)).referrer.id, "referrer", None)
    senders = 6
    go = threading.Barrier(senders)
    answers: list[httpx.Response] = []

    def send() -> None:
        go.wait()
        answers.append(_send(client, "/pathways", referral_json(4), "burst", referrer))

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202] * senders, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    pathway = pathway_of(client, referral_json(4)["person"]["ins"])
    journal = client.get(f"/pathways/{pathway}/journal").json()
    assert [e["type"] for e in journal] == ["Referred"]


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_key_is_forgotten_after_its_time_to_live(tmp_path: Path) -> None:
    clock = _Clock()
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var",
                              scheduler_interval_s=3600, future_date_tolerance_days=400,
                              idempotency_ttl_days=2), clock)
    with TestClient(app, headers=HEADERS) as client:
        open_territory(client)
        pathway = referred(client, 1)
        admit(client, pathway, "gc-1")
        note = dump(f.note())
        assert _send(client, f"/pathways/{pathway}/notes", note, "k").status_code == 200
        clock.now += timedelta(days=1)
        assert _send(client, f"/pathways/{pathway}/notes", note, "k").headers.get(
            "Idempotent-Replayed") == "true"
        clock.now += timedelta(days=1, seconds=1)
        fresh = _send(client, f"/pathways/{pathway}/notes", note, "k")
        assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh.headers
        assert _noted(client, pathway) == 2


def test_every_command_documents_the_header(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    commands = [(path, operation) for path, item in spec["paths"].items()
                for method, operation in item.items()
                if method == "post" and path.startswith(("/pathways", "/alerts"))]
    assert len(commands) >= 15
    for path, operation in commands:
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        schema = headers["Idempotency-Key"]["schema"]["anyOf"][0]
        assert (schema["minLength"], schema["maxLength"]) == (1, 255), path
        assert "idempotency.key_reused" in headers["Idempotency-Key"]["description"]
