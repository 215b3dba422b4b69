"""The distributed platform under a steady load of commands through the API, while the test
`kill -9`s the PostgreSQL postmaster and the Kafka broker and restarts them: every process is
still running and catches up by itself, nothing acknowledged is lost, and during the database
outage the API answers 503 within its bound — never 500, never a hang.

The clients send each command with an Idempotency-Key and send it again, with the same key,
after a timeout, a 503 or a connection error (one of them gives up after a second, so it sends
commands again while the first is still running). Afterwards: each command is stored once,
no alert was raised twice, and every view equals its projection rebuilt from zero.

A third client hospitalises and discharges patients in turn, so that alerts (R1, R2) are raised
through the faults; the notifier delivers them to two professionals' webhooks on loopback
receivers. Afterwards every raised alert reached each of them exactly once (``fault_alerts``).

Only the two servers are restarted by the test; the API, the relay, every projection and the
notifier are left alone. (Issue 12; the relay killed mid-batch: ``test_faults_relay``,
``test_relay_crash``.)"""

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from uuid import uuid4

import psycopg

from parcours.bootstrap import PROJECTIONS as PLATFORM_PROJECTIONS
from projections.ruptures.projection import DEADLINES, RupturesProjection
from services.scheduler.scheduler import Scheduler
from shared import fictitious as f
from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming.projecting import LogProjector
from tests.conftest import bearer
from tests.e2e.api import dump
from tests.e2e.test_walkthrough import free_port
from tests.integration.conftest import drop_database, fill, measured
from tests.integration.contract import assert_topic_keeps_the_contract
from tests.integration.fault_alerts import (
    SUBSCRIBERS,
    all_delivered,
    answers,
    assert_each_alert_delivered_once,
    notifier_env,
    patients,
    subscribe,
)
from tests.integration.kafka_helpers import committed_ends, read_topic, wait_until
from tests.integration.notification_helpers import WebhookReceiver
from tests.integration.processes import infra, start, stop

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
    replayed: bool = False


@dataclass
class Load:
    """Posts follow-up notes through the API, one after another, until stopped, as a careful
    client does: each command with its own Idempotency-Key, sent again with the same key
    (and the same correlation id) after a timeout, a 503 or a connection error, until it is
    answered. ``timeout_s``: how long the client waits for an answer."""

    base: str
    pathways: list[str]
    timeout_s: float = ANSWER_BOUND_S * 3
    name: str = "load"
    pause_s: float = 0.05
    answers: list[Answer] = field(default_factory=list)
    """Every attempt."""
    commands: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    """Idempotency-Key → (correlation id, the final status)."""
    bodies: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Idempotency-Key → (the pathway, the first answer's body) for acknowledged commands."""
    last_body: bytes = b""
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            pathway = self.pathways[turn % len(self.pathways)]
            turn += 1
            key = f"{self.name}-{uuid4()}"
            correlation = str(uuid4())
            path, body = self.command(pathway)
            status = None
            # Stopped: the command in flight is still sent until it has an answer, so that
            # what the client knows of it is exact.
            give_up = float("inf")
            while status is None or status == 503:
                if self.stop.is_set():
                    give_up = min(give_up, time.monotonic() + 60)
                if time.monotonic() > give_up:
                    break
                status = self.send(pathway, key, correlation, path, body)
                if status is None or status == 503:
                    self.stop.wait(0.2)  # a short pause: Retry-After says 5 s, a test waits less
            self.commands[key] = (correlation, status)
            self.answered(pathway, status)
            self.stop.wait(self.pause_s)

    def command(self, pathway: str) -> tuple[str, bytes]:
        """The next command on the pathway: its path after the pathway's, and its body (the
        same bytes for every retry, or the key would be refused as reused)."""
        return "notes", NOTE

    def answered(self, pathway: str, status: int | None) -> None:
        """What the client learns from a command's final answer."""

    def send(self, pathway: str, key: str, correlation: str, path: str = "notes",
             body: bytes = b"") -> int | None:
        request = urllib.request.Request(
            f"{self.base}/pathways/{pathway}/{path}", data=body or NOTE, method="POST",
            headers={**HEADERS, "X-Correlation-Id": correlation, "Idempotency-Key": key})
        started = time.monotonic()
        status: int | None
        replayed = False
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                status = answer.status
                replayed = answer.headers.get("Idempotent-Replayed") == "true"
                body = self.last_body = answer.read()
                if key not in self.bodies:
                    self.bodies[key] = (pathway, body)
        except urllib.error.HTTPError as error:
            status = error.code
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            status = None
        self.answers.append(Answer(status, time.monotonic() - started, started, correlation,
                                   replayed))
        return status

    def acknowledged(self) -> int:
        return sum(1 for a in self.answers if a.status is not None and a.status < 300)

    def acknowledged_since(self, moment: float) -> int:
        return sum(1 for a in self.answers
                   if a.at > moment and a.status is not None and a.status < 300)

    def acknowledged_keys(self) -> dict[str, str]:
        return {key: correlation for key, (correlation, status) in self.commands.items()
                if status is not None and status < 300}


@dataclass
class Stays(Load):
    """Hospitalises its patients and discharges them in turn: each hospitalisation raises R1
    at once, each discharge R2 (when the patient was in long enough for R1 to fire first)."""

    name: str = "stays"
    pause_s: float = 0.4
    in_hospital: set[str] = field(default_factory=set)

    def command(self, pathway: str) -> tuple[str, bytes]:
        now = datetime.now(UTC)
        if pathway in self.in_hospital:
            return "discharges", json.dumps(dump(f.discharge(now))).encode()
        return "hospitalisations", json.dumps(dump(f.stay(now))).encode()

    def answered(self, pathway: str, status: int | None) -> None:
        if status is not None and status < 300:
            self.in_hospital ^= {pathway}


HEADERS = {**bearer("gc-1", "case_manager"), "Content-Type": "application/json"}
NOTE = json.dumps({"kind": "phone", "with_whom": "family",
                   "contact_on": date.today().isoformat(),
                   "summary": "Appel de suivi (test de pannes)"}).encode()


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


def caught_up(settings: Settings, name: str, topic: str | None = None) -> bool:
    """The projection's stored offsets reach the last committed record of every partition."""
    topic = topic or settings.topic
    end = committed_ends(settings, topic)
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT partition, next_offset FROM projection_offsets "
                            "WHERE projection = %s AND source = %s",
                            (name, topic)).fetchall()
    stored = {int(p): int(o) for p, o in rows}
    return all(stored.get(partition, 0) >= offset for partition, offset in end.items())


def test_every_process_rides_out_restarts_of_postgresql_and_kafka(
        settings: Settings, journal: Journal, tmp_path: Path) -> None:
    pathways = list(fill(journal, 6)) + patients(journal, 2)
    port, notify_port = free_port(), free_port()
    base, notifier = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{notify_port}"
    alerts_topic = f"{settings.topic}.alerts"
    env = {"PARCOURS_DB_WAIT_S": str(DB_WAIT_S), "PARCOURS_ALERTS_TOPIC": alerts_topic,
           "PARCOURS_SCHEDULER_INTERVAL_S": "0.5", **notifier_env(notify_port)}
    logs = {name: tmp_path / f"{name}.log" for name in ("api", "relay", *PROJECTIONS, "notify")}
    receivers = {professional: WebhookReceiver() for professional in SUBSCRIBERS}
    # The notifier first: the professionals subscribe before the first alert is raised
    # (preferences apply to alerts raised afterwards).
    processes = {"notify": start(["notify"], settings, logs["notify"], **env)}
    try:
        wait_until(lambda: answers(notifier), 60, "the notifier's API")
        subscribe(notifier, receivers)
    except BaseException:
        stop(processes["notify"])
        raise
    processes.update({
        "api": start(["serve", "--port", str(port)], settings, logs["api"], **env),
        "relay": start(["relay"], settings, logs["relay"], **env),
        **{name: start(["project", name], settings, logs[name], **env) for name in PROJECTIONS},
    })

    def show(name: str) -> str:
        return f"{name} log:\n{logs[name].read_text()[-4000:]}"

    def all_running() -> None:
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited ({process.returncode})\n{show(name)}"

    load = Load(base, pathways[:3])
    # A client that gives up after a second: during the outage it times out before the 503
    # and sends the same command again, with the same key, while the first is still running.
    # Its own pathways: requests on one pathway queue behind each other's wait for the
    # database (the cache's lock per aggregate), which would blur the bound measured above.
    hasty = Load(base, pathways[3:6], timeout_s=HASTY_TIMEOUT_S, name="hasty")
    stays = Stays(base, pathways[6:])
    loaders = [threading.Thread(target=each.run, name=each.name)
               for each in (load, hasty, stays)]
    try:
        wait_until(lambda: health(base) == 200, 60, "the API")
        for loader in loaders:
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
        kafka_killed_at = time.monotonic()
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
        loads_stopped_at = time.monotonic()
        for each in (load, hasty, stays):
            each.stop.set()
        # Whatever failed, the servers are up again for the next tests.
        infra("postgres", "start")
        infra("kafka", "start")
        for loader in loaders:
            if loader.is_alive():
                loader.join(timeout=90)

    try:
        all_running()
        # A command sent once more after everything: the first answer, nothing stored.
        key, (pathway, first_body) = next(iter(load.bodies.items()))
        again = load.send(pathway, key, load.commands[key][0])
        assert (again, load.answers[-1].replayed, load.last_body) == (200, True, first_body)
        wait_until(lambda: quiet(settings, journal), 180,
                   "the relay and every projection to catch up with the store")
        settled_at = time.monotonic()
        stored = list(pathway_events(journal))
        wait_until(lambda: caught_up(settings, "notifications", alerts_topic)
                   and all_delivered(settings, stored, receivers), 120,
                   "the notifier to take in every alert and deliver it")
        all_running()

        # During the database outage: 503 within the bound, never 500, never a hang.
        during = [a for a in load.answers if killed_at < a.at < back_at]
        statuses = Counter(a.status for a in load.answers)
        assert 500 not in statuses, statuses
        assert 500 not in Counter(a.status for a in hasty.answers)
        assert 500 not in Counter(a.status for a in stays.answers)
        assert None not in statuses, f"a command got no answer: {statuses}"
        assert during and all(a.took_s <= ANSWER_BOUND_S for a in during), \
            [(a.status, round(a.took_s, 1)) for a in during]

        first_503 = next(a for a in during if a.status == 503)
        recovered = next(a for a in load.answers if a.at > back_at and a.status == 200)
        retried = sum(1 for a in (*load.answers, *hasty.answers) if a.status in (None, 503))
        replays = sum(1 for a in (*load.answers, *hasty.answers) if a.replayed)
        measured(f"faults injected: PostgreSQL postmaster kill -9, down "
                 f"{back_at - killed_at:.1f} s; Kafka broker kill -9, down "
                 f"{resumed - kafka_killed_at:.1f} s; {len(processes)} processes ran through")
        measured(f"faults: {len(load.commands) + len(hasty.commands)} commands in "
              f"{len(load.answers) + len(hasty.answers)} attempts ({dict(statuses)}; hasty "
              f"client {dict(Counter(a.status for a in hasty.answers))}), {retried} sent again "
              f"with their key, {replays} answered from the key; database outage: first 503 "
              f"after {first_503.at + first_503.took_s - killed_at:.1f} s, slowest answer "
              f"{max(a.took_s for a in during):.1f} s; first success "
              f"{recovered.at + recovered.took_s - back_at:.1f} s after the restart")
        measured(f"faults: the loads stopped {loads_stopped_at - resumed:.1f} s after Kafka's "
                 f"restart; the relay, every view and the alerts were through "
                 f"{settled_at - resumed:.1f} s after it")
    finally:
        exits = {name: stop(process) if process.poll() is None else process.returncode
                 for name, process in processes.items()}
        for receiver in receivers.values():
            receiver.close()
    # SIGTERM stops each cleanly (uvicorn ends the API by re-raising the signal).
    assert exits.pop("api") in (0, -15)
    assert set(exits.values()) == {0}, {name: (code, show(name)) for name, code in exits.items()
                                         if code != 0}

    # Every processes stopped, the store as it is now is what the views must show.
    looked = _last_seen.get(settings.topic, 0) or 0
    assert quiet(settings, journal), (
        "the store changed while the processes stopped: "
        f"{[(p, e.type, e.data.get('rule')) for p, e in read_log(journal, looked + 1, 50) if e]}")
    stored = list(pathway_events(journal))
    assert_applied_once(settings, stored, {**load.acknowledged_keys(),
                                           **hasty.acknowledged_keys()})
    assert_applied_once(settings, stored, stays.acknowledged_keys(),
                        ("Hospitalised", "Discharged"),
                        {correlation for correlation, _ in stays.commands.values()})
    assert_no_alert_twice(stored)
    delivered = assert_each_alert_delivered_once(settings, stored, receivers)
    measured(f"notifications: {delivered.alerts} alerts raised for the subscribers "
          f"({Counter(e.data['rule'] for e in stored if e.type == 'AlertRaised')}), "
          f"{delivered.expected} webhook deliveries due, {delivered.arrived} arrived, "
          f"{delivered.cancelled} cancelled (alert resolved first), "
          f"{delivered.duplicates} duplicates; stays client: {len(stays.commands)} commands")
    assert_in_order_per_pathway(settings)
    assert_views_equal_a_rebuild(settings, journal)
    assert sum(assert_topic_keeps_the_contract(settings).values()) >= len(stored)


HASTY_TIMEOUT_S = 1.0


def pathway_events(journal: Journal) -> Iterator[EventEnvelope]:
    start = 1
    while entries := read_log(journal, start, 1000):
        yield from (envelope for _, envelope in entries if envelope is not None)
        start = entries[-1][0] + 1


def stored_pathway_events(journal: Journal) -> set[object]:
    """The id of every pathway event in the store (what the relay must publish)."""
    return {envelope.event_id for envelope in pathway_events(journal)}


_last_seen: dict[str, int] = {}


def quiet(settings: Settings, journal: Journal) -> bool:
    """Every stored event is on the topic, every projection has consumed the whole topic,
    and nothing was stored since the last look (the rules' scheduler has nothing to fire)."""
    last = journal.recorder.max_notification_id() or 0
    before = _last_seen.get(settings.topic)
    _last_seen[settings.topic] = last
    if last != before:
        return False
    stored = stored_pathway_events(journal)
    if {EventEnvelope.from_json(r.value).event_id for r in read_topic(settings)} != stored:
        return False
    # The checks take a second, and the views and the scheduler go on meanwhile: a view that
    # caught up during them may have planned alerts the scheduler raised before nothing_due
    # looked. Those were stored after ``last``: look at the store's end once more.
    return (all(caught_up(settings, name) for name in PROJECTIONS) and nothing_due(settings)
            and (journal.recorder.max_notification_id() or 0) == last)


def nothing_due(settings: Settings) -> bool:
    """The rules' scheduler has fired what is due: a view caught up with a stay's event has
    planned its R1 a moment before the scheduler, in its own thread, records it."""
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        # As moments, not as text: a deadline's offset is the fact's own (+01:00 in Paris).
        row = conn.execute(f"SELECT count(*) FROM {DEADLINES} WHERE outcome = 'pending' "
                           "AND due_at::timestamptz <= now()").fetchone()
    return row is not None and row[0] == 0


def assert_applied_once(settings: Settings, stored: list[EventEnvelope],
                        acknowledged: dict[str, str],
                        types: tuple[str, ...] = ("FollowUpNoted",),
                        sent: set[str] | None = None) -> None:
    """Each command of the load is stored once, however often it was sent: one event of its
    type per correlation id (the client sent each command's retries with its own), and the
    key of each acknowledged command recorded once. ``sent``: the client's correlation ids,
    when events of those types were also stored before the load (``fill``)."""
    notes = Counter(str(e.correlation_id) for e in stored
                    if e.type in types and (sent is None or str(e.correlation_id) in sent))
    twice = {correlation: n for correlation, n in notes.items() if n > 1}
    assert not twice, f"commands applied more than once: {twice}"
    missing = set(acknowledged.values()) - set(notes)
    assert not missing, f"{len(missing)} acknowledged commands not stored"
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        keys = Counter(row[0] for row in conn.execute(
            "SELECT key FROM idempotency_keys WHERE scope = 'gc-1'"))
    assert set(acknowledged) <= set(keys), "an acknowledged command's key was not recorded"
    load_notes = sum(n for correlation, n in notes.items()
                     if correlation in set(acknowledged.values()))
    assert load_notes == len(acknowledged)


def assert_no_alert_twice(stored: list[EventEnvelope]) -> None:
    raised = Counter((str(e.pathway_id), e.data["dedup_key"])
                     for e in stored if e.type == "AlertRaised")
    assert raised, "the load raised no alert: the check below would prove nothing"
    twice = {key: n for key, n in raised.items() if n > 1}
    assert not twice, f"alerts raised more than once: {twice}"


def assert_in_order_per_pathway(settings: Settings) -> None:
    """Each event is on the topic once, as a consumer of committed records reads it, and each
    pathway's events are there in their stream order: nothing skipped, nothing dropped."""
    last: dict[object, int] = {}
    seen: set[object] = set()
    for record in read_topic(settings):  # partition by partition, in offset order
        event = EventEnvelope.from_json(record.value)
        assert event.event_id not in seen, \
            f"{event.pathway_id} v{event.stream_version} is on the topic twice " \
            f"(again at offset {record.offset} of partition {record.partition})"
        seen.add(event.event_id)
        assert event.stream_version == last.get(event.pathway_id, 0) + 1, \
            f"{event.pathway_id}: version {event.stream_version} after {last.get(event.pathway_id)}"
        last[event.pathway_id] = event.stream_version


def assert_views_equal_a_rebuild(settings: Settings, journal: Journal) -> None:
    """Every view the projection processes built through the outages equals the same
    projection rebuilt from zero, from the store's log, in a database of its own."""
    name = f"rebuild_{uuid4().hex[:12]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    fresh = PostgresDatabase(settings.database_url.rsplit("/", 1)[0] + f"/{name}")
    live = PostgresDatabase(settings.database_url)
    try:
        for make in PLATFORM_PROJECTIONS.values():
            projection = make(settings)
            LogProjector(partial(read_log, journal), fresh, projection).catch_up()
            if isinstance(projection, RupturesProjection):
                # The rules' first tick on the rebuild lapses the deadlines time has lapsed,
                # as the live one did, and finds nothing left to fire.
                assert Scheduler(fresh, journal, projection).fire_due() == 0
            for table in projection.tables:  # type: ignore[attr-defined]
                assert rows(live, table) == rows(fresh, table), \
                    f"{projection.name}: {table} differs from its rebuild"
    finally:
        live.close()
        fresh.close()
        drop_database(settings.database_url, name)


def rows(db: PostgresDatabase, table: str) -> Counter[str]:
    with db.transaction() as tx:
        return Counter(repr(tuple(row)) for row in tx.execute(f"SELECT * FROM {table}"))
