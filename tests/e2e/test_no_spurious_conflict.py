"""Commands sent without If-Match while the rules' owner appends alerts to the same pathways
answer for the practice only: never a conflict the caller cannot act on, never a 500."""

import random
import threading
from collections import Counter
from datetime import UTC, datetime
from uuid import UUID

from fastapi.testclient import TestClient

from shared import fictitious as f
from shared.journal.application import Journal
from tests.e2e.api import admit, dump, referred, view

PATHWAYS, NOTES_EACH, ALERTS_EACH = 4, 25, 25


def test_commands_without_if_match_ride_over_alerts_appended_meanwhile(
        client: TestClient) -> None:
    pathways = [referred(client, seed) for seed in range(1, PATHWAYS + 1)]
    for pathway in pathways:
        admit(client, pathway, "gc-1")
    journal: Journal = client.app.state.platform.journal  # type: ignore[attr-defined]
    statuses: Counter[int] = Counter()
    raised: list[bool] = []
    go = threading.Barrier(PATHWAYS * 2)

    def note(pathway: str) -> None:
        go.wait()
        for _ in range(NOTES_EACH):
            answer = client.post(f"/pathways/{pathway}/notes", json=dump(f.note()))
            statuses[answer.status_code] += 1

    def alerts(pathway: str) -> None:
        rng = random.Random(pathway)
        go.wait()
        for _ in range(ALERTS_EACH):  # what the scheduler does, as fast as it can
            alert = f.alert(key=f"R1:{rng.random()}").model_copy(
                update={"alert_id": UUID(int=rng.getrandbits(128)),
                        "due_at": datetime(2026, 3, 1, tzinfo=UTC)})
            raised.append(journal.raise_alert(UUID(pathway), alert))

    threads = [threading.Thread(target=work, args=(pathway,))
               for pathway in pathways for work in (note, alerts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == {200: PATHWAYS * NOTES_EACH}
    assert raised == [True] * (PATHWAYS * ALERTS_EACH)
    for pathway in pathways:  # every note and every alert is in the journal, once
        journal_entries = client.get(f"/pathways/{pathway}/journal").json()
        notes = sum(1 for e in journal_entries if e["type"] == "FollowUpNoted")
        ours = sum(1 for e in journal_entries if e["type"] == "AlertRaised"
                   and e["data"]["dedup_key"].startswith("R1:0."))  # the platform's own fire too
        assert (notes, ours) == (NOTES_EACH, ALERTS_EACH)


def test_with_if_match_a_stale_version_is_told_with_the_current_one(
        client: TestClient) -> None:
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    current = view(client, pathway)["version"]
    client.post(f"/pathways/{pathway}/notes", json=dump(f.note())).raise_for_status()
    stale = client.post(f"/pathways/{pathway}/notes", json=dump(f.note()),
                        headers={"If-Match": f'"{current}"'})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert (error["code"], error["details"]["current_version"]) == (
        "pathway.concurrent_change", current + 1)
    assert stale.headers["ETag"] == f'"{current + 1}"'
