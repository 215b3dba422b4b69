"""Starting the distributed processes: a setting that can never work ends the process at once
with a message naming it; a server that is away is waited for (issue 12, items 1 and 4)."""

import time
from pathlib import Path

import pytest

from shared.journal.application import Journal
from shared.runtime.settings import Settings
from tests.integration.conftest import fill
from tests.integration.fault_alerts import answers
from tests.integration.kafka_helpers import read_topic, wait_until
from tests.integration.notification_helpers import free_port
from tests.integration.processes import infra, start, stop
from tests.integration.test_faults import caught_up


def _wrong_database(settings: Settings, what: str) -> str:
    base, name = settings.database_url.rsplit("/", 1)
    if what == "database":
        return f"{base}/{name}_missing"
    if what == "role":
        return base.replace("://parcours@", "://nobody@") + f"/{name}"
    return base.rsplit(":", 1)[0] + ":notaport/" + name


@pytest.mark.parametrize(("command", "what", "expected"), [
    (["relay"], "database", "does not exist"),
    (["project", "caseload"], "role", "does not exist"),
    (["project", "ruptures"], "port", "not a number"),
    (["notify"], "database", "does not exist"),
])
def test_a_wrong_database_url_ends_the_process_with_what_to_fix(
        settings: Settings, tmp_path: Path, command: list[str], what: str,
        expected: str) -> None:
    wrong = settings.model_copy(update={"database_url": _wrong_database(settings, what)})
    log = tmp_path / "process.log"
    process = start(command, wrong, log)
    try:
        code = process.wait(timeout=60)
    except BaseException:
        stop(process)
        raise
    said = log.read_text()
    assert code == 1, said
    assert "PARCOURS_DATABASE_URL" in said and expected in said, said
    assert "Traceback" not in said, said


def test_a_malformed_kafka_bootstrap_ends_the_process(settings: Settings,
                                                      tmp_path: Path) -> None:
    wrong = settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:notaport"})
    log = tmp_path / "relay.log"
    process = start(["relay"], wrong, log)
    assert process.wait(timeout=60) == 1, log.read_text()
    assert "PARCOURS_KAFKA_BOOTSTRAP" in log.read_text()


def test_a_malformed_kafka_bootstrap_ends_the_notifier(settings: Settings,
                                                       tmp_path: Path) -> None:
    wrong = settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:notaport"})
    log = tmp_path / "notify.log"
    process = start(["notify"], wrong, log, PARCOURS_NOTIFICATIONS_PORT=str(free_port()))
    assert process.wait(timeout=60) == 1, log.read_text()
    assert "PARCOURS_KAFKA_BOOTSTRAP" in log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_processes_started_while_postgresql_is_down_wait_for_it(
        settings: Settings, journal: Journal, tmp_path: Path) -> None:
    fill(journal, 2)
    logs = {name: tmp_path / f"{name}.log" for name in ("relay", "caseload", "notify")}
    infra("postgres", "stop")
    processes = {}
    try:
        notify_port = free_port()
        processes = {"relay": start(["relay"], settings, logs["relay"]),
                     "caseload": start(["project", "caseload"], settings, logs["caseload"]),
                     "notify": start(["notify"], settings, logs["notify"],
                                     PARCOURS_NOTIFICATIONS_PORT=str(notify_port))}
        wait_until(lambda: all("unavailable" in log.read_text() for log in logs.values()), 60,
                   "each process to say it waits for PostgreSQL")
        time.sleep(1)  # a moment of waiting: nobody exits
        for name, process in processes.items():
            assert process.poll() is None, logs[name].read_text()
    finally:
        infra("postgres", "start")
    try:
        stored = 2 * 10
        wait_until(lambda: len(read_topic(settings)) >= stored, 90, "the relay to publish")
        wait_until(lambda: caught_up(settings, "caseload"), 90, "the projection to catch up")
        wait_until(lambda: answers(f"http://127.0.0.1:{notify_port}"), 90,
                   "the notifier's API once PostgreSQL is back")
    finally:
        exits = {name: stop(process) for name, process in processes.items()}
    assert exits == {"relay": 0, "caseload": 0, "notify": 0}, \
        {n: logs[n].read_text()[-2000:] for n in logs}
