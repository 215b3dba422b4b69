"""The distributed platform under a steady load of commands through the API, while the test
`kill -9`s the PostgreSQL postmaster and the Kafka broker and restarts them: every process is
still running and catches up by itself, nothing acknowledged is lost, and during the database
outage the API answers 503 within its bound — never 500, never a hang.

Only the two servers are restarted by the test; the API, the relay and every projection are
left alone. (Issue 12; the relay killed mid-batch is covered by ``test_relay_crash``.)"""

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg

from shared.events import EventEnvelope
from shared.pathway.application import Journal, read_log
from shared.settings import Settings
from tests.conftest import bearer
from tests.e2e.test_walkthrough import free_port
from tests.integration.conftest import fill
from tests.integration.kafka_helpers import committed_ends, read_topic, wait_until
from tests.integration.processes import start, stop

ROOT = Path(__file__).resolve().parents[2]
PROJECTIONS = ("caseload", "ruptures", "contacts", "dysfunctions")
DB_WAIT_S = 3
# The bound on an answer during the outage: the pool's wait plus the time to answer.
ANSWER_BOUND_S = DB_WAIT_S + 3


@dataclass
class Answer:
    status: int | None  # None: no answer before the client's own timeout
    took_s: float
    at: float
    correlation_id: str


@dataclass
class Load:
    """Posts follow-up notes through the API, one after another, until stopped."""

    base: str
    pathways: list[str]
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {**bearer("gc-1", "case_manager"), "Content-Type": "application/json"}
        body = json.dumps({"kind": "phone", "with_whom": "family",
                           "contact_on": date.today().isoformat(),
                           "summary": "Appel de suivi (test de pannes)"}).encode()
        turn = 0
        while not self.stop.is_set():
            pathway = self.pathways[turn % len(self.pathways)]
            turn += 1
            correlation = str(uuid4())
            request = urllib.request.Request(
                f"{self.base}/pathways/{pathway}/notes", data=body, method="POST",
                headers={**headers, "X-Correlation-Id": correlation})
            started = time.monotonic()
            status: int | None
            try:
                with urllib.request.urlopen(request, timeout=ANSWER_BOUND_S * 3) as answer:
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (TimeoutError, urllib.error.URLError, ConnectionError):
                status = None
            self.answers.append(Answer(status, time.monotonic() - started, started, correlation))
            self.stop.wait(0.05)

    def acknowledged(self) -> int:
        return sum(1 for a in self.answers if a.status is not None and a.status < 300)

    def acknowledged_since(self, moment: float) -> int:
        return sum(1 for a in self.answers
                   if a.at > moment and a.status is not None and a.status < 300)


def infra(script: str, verb: str) -> None:
    env = {**os.environ}
    if script == "kafka":
        env.setdefault("PYTHON", str(ROOT / ".venv/bin/python"))
    subprocess.run(["bash", str(ROOT / f"infra/{script}.sh"), verb], check=True, env=env,
                   cwd=ROOT, capture_output=True, timeout=180)


def ready(base: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"{base}/ready", timeout=ANSWER_BOUND_S) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def health(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def stored_pathway_events(journal: Journal) -> set[object]:
    """The id of every pathway event in the store (what the relay must publish)."""
    found: set[object] = set()
    start = 1
    while entries := read_log(journal, start, 1000):
        found.update(envelope.event_id for _, envelope in entries if envelope is not None)
        start = entries[-1][0] + 1
    return found


def caught_up(settings: Settings, name: str) -> bool:
    """The projection's stored offsets reach the last committed record of every partition."""
    end = committed_ends(settings)
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT partition, next_offset FROM projection_offsets "
                            "WHERE projection = %s AND source = %s",
                            (name, settings.topic)).fetchall()
    stored = {int(p): int(o) for p, o in rows}
    return all(stored.get(partition, 0) >= offset for partition, offset in end.items())


def test_every_process_rides_out_restarts_of_postgresql_and_kafka(
        settings: Settings, journal: Journal, tmp_path: Path) -> None:
    pathways = list(fill(journal, 6))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PARCOURS_DB_WAIT_S": str(DB_WAIT_S), "PARCOURS_ALERTS_TOPIC":
           f"{settings.topic}.alerts", "PARCOURS_SCHEDULER_INTERVAL_S": "0.5"}
    logs = {name: tmp_path / f"{name}.log" for name in ("api", "relay", *PROJECTIONS)}
    processes = {
        "api": start(["serve", "--port", str(port)], settings, logs["api"], **env),
        "relay": start(["relay"], settings, logs["relay"], **env),
        **{name: start(["project", name], settings, logs[name], **env) for name in PROJECTIONS},
    }

    def show(name: str) -> str:
        return f"{name} log:\n{logs[name].read_text()[-4000:]}"

    def all_running() -> None:
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited ({process.returncode})\n{show(name)}"

    load = Load(base, pathways)
    loader = threading.Thread(target=load.run, name="load")
    try:
        wait_until(lambda: health(base) == 200, 60, "the API")
        loader.start()
        wait_until(lambda: load.acknowledged() >= 20, 60, "the first commands")

        # 1. The PostgreSQL postmaster dies; it comes back 8 s later.
        killed_at = time.monotonic()
        infra("postgres", "kill")
        try:
            wait_until(lambda: any(a.at > killed_at and a.status == 503 for a in load.answers),
                       ANSWER_BOUND_S * 2, "a 503 during the database outage")
        except AssertionError as error:
            seen = [(a.status, round(a.took_s, 1)) for a in load.answers if a.at > killed_at]
            raise AssertionError(f"{error}: {seen}\n{show('api')}") from None
        assert health(base) == 200, "/health must not need the database"
        assert ready(base) == (503, {"status": "unavailable",
                                     "dependencies": {"database": "unreachable"}})
        # The outage lasts a fixed 8 s on purpose: long enough for every process to meet it.
        time.sleep(max(0.0, 8 - (time.monotonic() - killed_at)))
        all_running()
        infra("postgres", "start")
        back_at = time.monotonic()
        wait_until(lambda: load.acknowledged_since(back_at) >= 10, 60,
                   "commands to succeed again after the restart")
        assert ready(base)[0] == 200

        # 2. The Kafka broker dies; it comes back (its start takes some seconds).
        infra("kafka", "kill")
        all_running()
        infra("kafka", "start")
        resumed = time.monotonic()
        wait_until(lambda: load.acknowledged_since(resumed) >= 10, 60, "more commands")
    except BaseException:
        for process in processes.values():
            stop(process)
        raise
    finally:
        load.stop.set()
        # Whatever failed, the servers are up again for the next tests.
        infra("postgres", "start")
        infra("kafka", "start")
        if loader.is_alive():
            loader.join(timeout=60)

    try:
        all_running()
        stored = stored_pathway_events(journal)  # the journal's pool also met the outage
        wait_until(lambda: {EventEnvelope.from_json(r.value).event_id
                            for r in read_topic(settings)} == stored, 120,
                   "the relay to publish every stored event")
        for name in PROJECTIONS:
            wait_until(lambda name=name: caught_up(settings, name), 120,  # type: ignore[misc]
                       f"projection {name} to catch up")
        all_running()

        # During the database outage: 503 within the bound, never 500, never a hang.
        during = [a for a in load.answers if killed_at < a.at < back_at]
        statuses = Counter(a.status for a in load.answers)
        assert 500 not in statuses, statuses
        assert None not in statuses, f"a command got no answer: {statuses}"
        assert during and all(a.took_s <= ANSWER_BOUND_S for a in during), \
            [(a.status, round(a.took_s, 1)) for a in during]

        first_503 = next(a for a in during if a.status == 503)
        recovered = next(a for a in load.answers if a.at > back_at and a.status == 200)
        print(f"\nfaults: {len(load.answers)} commands ({dict(statuses)}); database outage: "
              f"first 503 after {first_503.at + first_503.took_s - killed_at:.1f} s, slowest "
              f"answer {max(a.took_s for a in during):.1f} s; first success "
              f"{recovered.at + recovered.took_s - back_at:.1f} s after the restart")

        # Every acknowledged note is stored once (the 503s stored nothing).
        notes = Counter(
            str(e.correlation_id) for e in
            (EventEnvelope.from_json(r.value) for r in read_topic(settings))
            if e.type == "FollowUpNoted")
        acknowledged = {a.correlation_id for a in load.answers
                        if a.status is not None and a.status < 300}
        missing = acknowledged - set(notes)
        assert not missing, f"{len(missing)} acknowledged notes not on the topic"
    finally:
        exits = {name: stop(process) if process.poll() is None else process.returncode
                 for name, process in processes.items()}
    # SIGTERM stops each cleanly (uvicorn ends the API by re-raising the signal).
    assert exits.pop("api") in (0, -15)
    assert set(exits.values()) == {0}, {name: (code, show(name)) for name, code in exits.items()
                                         if code != 0}
