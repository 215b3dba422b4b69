"""5. Page rendering: the case manager's home (Ma file active), a person's file and the alerts
page, through FastAPI's TestClient on the embedded platform with the demo loaded, signed in
with the session cookie, against GET /health (the same client, app and middleware, doing
nothing). ``python -m bench.web_pages`` runs it alone (no PostgreSQL or Kafka needed)."""

import os
import re
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from bench.common import Context, Progress, Result, percentile, say, table
from bench.read_latency import _get, _load_demo
from parcours.bootstrap import create_app
from shared.runtime.settings import Settings

REQUESTS = 200  # of each page, interleaved
WARM_UP = 10
MANAGER = "gc-anne"


def run(ctx: Context) -> list[Result]:
    requests = ctx.scaled(REQUESTS)
    with tempfile.TemporaryDirectory(prefix="parcours-bench-web-") as tmp:
        os.environ["PARCOURS_AUTH_DEV_KEY_PATH"] = str(Path(tmp) / "dev-signing-key.pem")
        settings = Settings(mode="embedded", data_dir=Path(tmp) / "var")
        _load_demo(settings)
        say(f"── pages: {requests:,} requests of each page, interleaved")
        # A loopback base URL: the session cookie is not Secure there, as with `make run`.
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            form = _get(client, "/connexion").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf, "no CSRF token on the sign-in page"
            signed = client.post("/connexion", data={"csrf": csrf.group(1), "user": MANAGER},
                                 follow_redirects=False)
            assert signed.status_code == 303, signed.text
            home = _get(client, "/file-active").text
            files = sorted(set(re.findall(r'href="(/dossiers/[0-9a-f-]{36})"', home)))
            assert files, "the demo case manager follows nobody"
            paths = {
                "health": lambda i: "/health",
                "home": lambda i: "/file-active",
                "file": lambda i: files[i % len(files)],
                "alerts": lambda i: "/alertes",
            }
            for i in range(WARM_UP):
                for path in paths.values():
                    _get(client, path(i))
            samples: dict[str, list[float]] = {name: [] for name in paths}
            progress = Progress("pages", requests * len(paths), "requests")
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
        for name, route in (("home", "/file-active (page)"), ("file", "/dossiers/{id} (page)"),
                            ("alerts", "/alertes (page)"))
        for p, n in (("p50", 50), ("p95", 95))
    ]


if __name__ == "__main__":

    results = run(Context(Settings(mode="embedded"), float(os.environ.get("BENCH_SCALE", "1"))))
    say("")
    say(table(results))
