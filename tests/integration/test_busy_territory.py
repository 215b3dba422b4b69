"""Fifty admissions at once on one territory, through `parcours serve` on PostgreSQL: each
one succeeds or is refused for a rule of the practice, never for a conflict on the
territory's places, never with a 500; and no place is given twice."""

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.conftest import PUBLIC_KEY, bearer
from tests.e2e.conftest import referral_json
from tests.e2e.test_walkthrough import serving
from tests.integration.conftest import measured

ADMISSIONS = 50
CAPACITY = 40  # ten of the fifty wait for a place
COORDINATOR = bearer("coord-1", "coordinator")


def call(base: str, method: str, path: str, body: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode(),
        headers={**COORDINATOR, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_fifty_concurrent_admissions_on_one_territory(settings: Settings,
                                                     tmp_path: Path) -> None:
    with serving(tmp_path, PARCOURS_MODE="distributed", PARCOURS_AUTH_PUBLIC_KEY=PUBLIC_KEY,
                 PARCOURS_DATABASE_URL=settings.database_url,
                 PARCOURS_TOPIC=settings.topic) as base:
        for manager in ("gc-1", "gc-2"):
            status, _ = call(base, "PUT", f"/territories/{f.TERRITORY}/case-managers/{manager}",
                             {"name": manager, "capacity": CAPACITY // 2})
            assert status == 200
        pathways = []
        for seed in range(ADMISSIONS):
            status, created = call(base, "POST", "/pathways", referral_json(1000 + seed))
            assert status == 201, created
            pathways.append(created["pathway_id"])

        answers: list[tuple[int, dict[str, object]]] = []
        go = threading.Barrier(ADMISSIONS)

        took: list[float] = []

        def admit(pathway: object) -> None:
            go.wait()
            started = time.monotonic()
            answers.append(call(base, "POST", f"/pathways/{pathway}/admission",
                                {"decided_on": "2026-01-20"}))
            took.append(time.monotonic() - started)

        threads = [threading.Thread(target=admit, args=(p,)) for p in pathways]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # Each waits for the territory's turn at most PARCOURS_DB_WAIT_S (5 s), then 503.
        measured(f"fifty admissions at once on one territory: the slowest answered in "
                 f"{max(took):.2f} s, the median in {sorted(took)[len(took) // 2]:.2f} s")
        assert Counter(status for status, _ in answers) == {200: ADMISSIONS}, answers
        loads = urllib.request.urlopen(urllib.request.Request(
            f"{base}/territories/{f.TERRITORY}/case-managers", headers=COORDINATOR))
        assert sum(m["active"] for m in json.load(loads)) == CAPACITY
        waiting = urllib.request.urlopen(urllib.request.Request(
            f"{base}/territories/{f.TERRITORY}/waiting-list", headers=COORDINATOR))
        ranks = [w["rank"] for w in json.load(waiting)]
        assert ranks == list(range(1, ADMISSIONS - CAPACITY + 1))
