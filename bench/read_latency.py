"""4. Read latency: GET /pathways/{id} and GET /caseload/{manager} through FastAPI's
TestClient on the embedded platform with the demo loaded, against GET /health (the same
client, app and middleware, doing nothing)."""

import os
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from bench.common import Context, Progress, Result, percentile, say
from parcours.bootstrap import create_app
from parcours.demo import load_demo
from shared.api.auth import Principal, development_key, sign
from shared.fictitious import TERRITORY
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings

REQUESTS = 300  # of each endpoint, interleaved
WARM_UP = 20


def run(ctx: Context) -> list[Result]:
    requests = ctx.scaled(REQUESTS)
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as tmp:
        key_path = Path(tmp) / "dev-signing-key.pem"
        os.environ["PARCOURS_AUTH_DEV_KEY_PATH"] = str(key_path)  # read by Settings below
        settings = Settings(mode="embedded", data_dir=Path(tmp) / "var")
        pathway_ids = _load_demo(settings)
        token = sign(development_key(key_path),
                     Principal("coord-bench", "Coordination (banc d'essai)", "coordinator",
                               TERRITORY), settings.auth_issuer, settings.auth_audience)
        say(f"── reads: {requests:,} requests of each endpoint, interleaved")
        with TestClient(create_app(settings),
                        headers={"Authorization": f"Bearer {token}"}) as client:
            managers = [m["case_manager_id"] for m in
                        _get(client, f"/territories/{TERRITORY}/case-managers").json()]
            paths = {
                "health": lambda i: "/health",
                "pathway": lambda i: f"/pathways/{pathway_ids[i % len(pathway_ids)]}",
                "caseload": lambda i: f"/caseload/{managers[i % len(managers)]}",
            }
            for i in range(WARM_UP):  # the first read catches the views up with the demo
                for path in paths.values():
                    _get(client, path(i))
            samples: dict[str, list[float]] = {name: [] for name in paths}
            progress = Progress("reads", requests * len(paths), "requests")
            for i in range(requests):
                for name, path in paths.items():
                    started = time.perf_counter()
                    _get(client, path(i))
                    samples[name].append((time.perf_counter() - started) * 1000)
                progress.update((i + 1) * len(paths))
    health = samples["health"]
    return [
        Result(f"GET {route} {p}", percentile(samples[name], n), "ms",
               f"GET /health {p}", percentile(health, n), higher_is_better=False,
               details={"requests": requests})
        for name, route in (("pathway", "/pathways/{id}"), ("caseload", "/caseload/{manager}"))
        for p, n in (("p50", 50), ("p95", 95))
    ]


def _load_demo(settings: Settings) -> list[str]:
    """The demo territory in a fresh embedded store; returns its pathway ids."""
    say("── demo territory: loading it into a fresh embedded store")
    journal = Journal(env=settings.journal_env())
    try:
        progress: Progress | None = None

        def report(done: int, total: int) -> None:
            nonlocal progress
            progress = progress or Progress("demo", total, "simulated days")
            progress.update(done)

        summary = load_demo(journal, progress=report)
        ids = sorted({str(e.pathway_id) for _, e in read_log(journal, 1, 10**9) if e})
    finally:
        journal.close()
    say(f"    {summary.pathways} pathways, {summary.events:,} events")
    return ids


def _get(client: TestClient, path: str) -> Response:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response
