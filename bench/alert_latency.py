"""7. Hospitalisation → alert at an SSE client: a case manager's stream is open; a stay is
recorded through the HTTP API (POST …/hospitalisations); the time until its R1 alert arrives
on the stream, over 200 stays, while other clients send 100 commands/s (follow-up notes) to the
same server. The server is ``parcours serve`` in its own process with its default settings
(embedded mode, scheduler interval 1 s, SSE poll 1 s), over loopback TCP. The baseline is the
POST's own response time at the same percentile, in the same run.

``python -m bench.alert_latency`` runs it alone (it needs neither PostgreSQL nor Kafka)."""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import Context, Progress, Result, free_port, percentile, say, table
from shared import fictitious
from shared.api.auth import Principal, development_key, sign
from shared.fictitious import TERRITORY
from shared.runtime.settings import Settings

STAYS = 200
STAYS_PER_PERSON = 5  # a stay, its R1, a discharge (R2), the next stay
BACKGROUND_PER_S = 100.0
BACKGROUND_CLIENTS = 10
BACKGROUND_PERSONS = 40
MANAGER = "gc-bench"
TARGET_P99_MS = 250.0
ADMITTED_ON = date(2026, 1, 20)


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    base_url: str
    key_path: Path
    settings: Settings
    log_path: Path

    def token(self, principal: Principal) -> str:
        return sign(development_key(self.key_path), principal, self.settings.auth_issuer,
                    self.settings.auth_audience)


@dataclass
class _Background:
    """Clients sending follow-up notes at a steady total rate until stopped."""

    base_url: str
    token: str
    pathways: list[str]
    per_s: float
    stop: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    failed: int = 0
    started: float = 0.0
    stopped: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, clients: int) -> list[threading.Thread]:
        self.started = time.perf_counter()
        threads = [threading.Thread(target=self._client, args=(k, clients), daemon=True)
                   for k in range(clients)]
        for thread in threads:
            thread.start()
        return threads

    def _client(self, k: int, clients: int) -> None:
        interval = clients / self.per_s
        note = {"kind": "phone", "with_whom": "person", "contact_on": ADMITTED_ON.isoformat(),
                "summary": "Appel de suivi (banc d'essai)"}
        with httpx.Client(base_url=self.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {self.token}"}) as client:
            next_at = time.perf_counter() + k * interval / clients
            n = k
            while not self.stop.is_set():
                pause = next_at - time.perf_counter()
                if pause > 0:
                    self.stop.wait(pause)
                next_at += interval
                pathway_id = self.pathways[n % len(self.pathways)]
                n += clients
                response = client.post(f"/pathways/{pathway_id}/notes", json=note)
                with self._lock:
                    if response.status_code == 200:
                        self.sent += 1
                    else:
                        self.failed += 1

    def rate(self) -> float:
        return self.sent / max(1e-9, self.stopped - self.started)


class _Stream:
    """The case manager's SSE stream, read in a thread: (arrival, pathway id, rule)."""

    def __init__(self, base_url: str, token: str, professional_id: str) -> None:
        self.arrivals: queue.Queue[tuple[float, str, str]] = queue.Queue()
        self.opened = threading.Event()
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(30, read=None),
                                    headers={"Authorization": f"Bearer {token}"})
        self._path = f"/notifications/stream/{professional_id}"
        self.thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> "_Stream":
        self.thread.start()
        if not self.opened.wait(30):
            raise RuntimeError("the SSE stream did not open")
        return self

    def _read(self) -> None:
        try:
            with self._client.stream("GET", self._path) as response:
                response.raise_for_status()
                self.opened.set()
                kind = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "alert":
                        alert = json.loads(line[6:])["alert"]
                        self.arrivals.put((time.perf_counter(), alert["pathway_id"],
                                           alert["rule"]))
        except (httpx.HTTPError, RuntimeError):
            pass  # closed at the end of the run

    def close(self) -> None:
        self._client.close()

    def wait_for(self, pathway_id: str, rule: str, timeout_s: float) -> float:
        deadline = time.perf_counter() + timeout_s
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RuntimeError(f"no {rule} alert for {pathway_id} within {timeout_s} s")
            try:
                arrived, found, kind = self.arrivals.get(timeout=left)
            except queue.Empty:
                continue
            if found == pathway_id and kind == rule:
                return arrived


def run(ctx: Context) -> list[Result]:
    stays = ctx.scaled(STAYS)
    persons = max(1, -(-stays // STAYS_PER_PERSON))
    with tempfile.TemporaryDirectory(prefix="parcours-bench-alerts-") as tmp:
        server = _serve(Path(tmp))
        try:
            say(f"── hospitalisation → alert on the stream: {stays} stays by HTTP, "
                f"{BACKGROUND_PER_S:.0f} notes/s beside ({BACKGROUND_CLIENTS} clients), "
                "parcours serve with its default settings")
            coordinator = server.token(Principal("coord-bench", "Coordination (banc d'essai)",
                                                 "coordinator", TERRITORY))
            manager = server.token(Principal(MANAGER, "Gestionnaire (banc d'essai)",
                                             "case_manager", TERRITORY))
            followed = _followed(server.base_url, coordinator, persons + BACKGROUND_PERSONS)
            measured, beside = followed[:persons], followed[persons:]
            stream = _Stream(server.base_url, manager, MANAGER).start()
            background = _Background(server.base_url, manager, beside, BACKGROUND_PER_S)
            threads = background.run(BACKGROUND_CLIENTS)
            try:
                latencies, posts = _stays(server.base_url, manager, measured, stays, stream)
            finally:
                background.stop.set()
                background.stopped = time.perf_counter()
                for thread in threads:
                    thread.join(timeout=30)
                stream.close()
        finally:
            _stop(server)
    details = {"stays": stays, "background_commands_per_s": round(background.rate(), 1),
               "background_failed": background.failed, "target_p99_ms": TARGET_P99_MS,
               "p99_met": percentile(latencies, 99) <= TARGET_P99_MS,
               "mode": "embedded (parcours serve, default settings)"}
    say(f"    background: {background.rate():.1f} commands/s sent, {background.failed} failed")
    return [
        Result(f"hospitalisation → SSE alert {p}", percentile(latencies, n), "ms",
               f"POST …/hospitalisations {p}", percentile(posts, n), higher_is_better=False,
               details=details)
        for p, n in (("p50", 50), ("p95", 95), ("p99", 99))
    ]


def _stays(base_url: str, token: str, pathways: list[str], stays: int,
           stream: _Stream) -> tuple[list[float], list[float]]:
    """One stay after the other, each waited for on the stream; then its discharge."""
    latencies: list[float] = []
    posts: list[float] = []
    progress = Progress("stays", stays, "alerts")
    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for n in range(stays):
            pathway_id = pathways[n % len(pathways)]
            now = datetime.now(UTC)
            stay = {"establishment": "CH de Villefictive", "ward": "Gériatrie",
                    "kind": "emergency", "admitted_at": (now - timedelta(seconds=1)).isoformat()}
            started = time.perf_counter()
            response = client.post(f"/pathways/{pathway_id}/hospitalisations", json=stay)
            answered = time.perf_counter()
            if response.status_code != 200:
                raise RuntimeError(f"POST hospitalisations: {response.status_code} "
                                   f"{response.text}")
            arrived = stream.wait_for(pathway_id, "R1", timeout_s=30)
            latencies.append((arrived - started) * 1000)
            posts.append((answered - started) * 1000)
            discharge = {"discharged_at": datetime.now(UTC).isoformat(),
                         "destination": "home", "discharge_letter_received": True}
            response = client.post(f"/pathways/{pathway_id}/discharges", json=discharge)
            if response.status_code != 200:
                raise RuntimeError(f"POST discharges: {response.status_code} {response.text}")
            stream.wait_for(pathway_id, "R2", timeout_s=30)  # not timed: next stay in a calm
            progress.update(n + 1)
    return latencies, posts


def _followed(base_url: str, token: str, count: int) -> list[str]:
    """Persons referred and admitted with the bench's case manager, through the API."""
    import random

    rng = random.Random(7)
    pathways = []
    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        client.put(f"/territories/{TERRITORY}/case-managers/{MANAGER}",
                   json={"name": "Gestionnaire (banc d'essai)", "capacity": 100}
                   ).raise_for_status()
        for _ in range(count):
            body = fictitious.referral(rng).model_dump(mode="json", exclude={"referral_id"})
            for signed_in in ("id", "name"):
                del body["referrer"][signed_in]
            created = client.post("/pathways", json=body)
            created.raise_for_status()
            pathway_id = created.json()["pathway_id"]
            client.post(f"/pathways/{pathway_id}/admission",
                        json={"decided_on": ADMITTED_ON.isoformat(),
                              "case_manager_id": MANAGER}).raise_for_status()
            pathways.append(pathway_id)
    return pathways


def _serve(tmp: Path) -> _Server:
    port = free_port()
    key_path = tmp / "dev-signing-key.pem"
    development_key(key_path)
    env = {**os.environ, "PARCOURS_MODE": "embedded", "PARCOURS_DATA_DIR": str(tmp / "var"),
           "PARCOURS_DEMO_ON_EMPTY": "false", "PARCOURS_AUTH_DEV_KEY_PATH": str(key_path),
           "PORT": str(port)}
    for name in ("PARCOURS_DATABASE_URL", "PARCOURS_SCHEDULER_INTERVAL_S",
                 "PARCOURS_SSE_POLL_S", "PARCOURS_HL7_PORT"):
        env.pop(name, None)  # the defaults, whatever the caller's environment says
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "parcours", "serve", "--host", "127.0.0.1",
             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"parcours serve did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    settings = Settings(mode="embedded", data_dir=tmp / "var")
    return _Server(process, base_url, key_path, settings, log_path)


def _stop(server: _Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


if __name__ == "__main__":

    results = run(Context(Settings(mode="embedded"), float(os.environ.get("BENCH_SCALE", "1"))))
    say("")
    say(table(results))
