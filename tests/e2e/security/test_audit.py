"""Finding 4: every answer that names a person is in the read audit, one record per person
named, and the audit's hash chain shows any record removed or changed."""

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parcours.cli import app as cli
from shared import fictitious as f
from tests.e2e.api import admit, dump, manager, post, referred
from tests.e2e.conftest import HEADERS, MANAGER
from tests.e2e.security.served import Served
from tests.e2e.test_ruptures_api import STAY, Clock, Platform, followed, start
from tests.integration.notification_helpers import wait_until


def _log(platform: Platform, pathway: str) -> list[tuple[str, str, str]]:
    answer = platform.client.get(f"/pathways/{pathway}/access-log", headers=HEADERS)
    assert answer.status_code == 200, answer.text
    return [(r["actor_id"], r["action"], r["outcome"]) for r in answer.json()]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1", capacity=2)
        yield Platform(client, clock)


def test_every_list_that_names_persons_is_audited_once_per_person(platform: Platform) -> None:
    client = platform.client
    followed_ones = [followed(platform, seed) for seed in (1, 2)]
    waiting = referred(client, 3)
    admit(client, waiting)  # no place left: on the waiting list
    undecided = referred(client, 4)
    post(client, f"/pathways/{followed_ones[0]}/hospitalisations", dump(f.stay(STAY)))
    platform.at(STAY + timedelta(minutes=1))  # an R1 alert

    reads = {
        "/caseload/gc-1": (MANAGER, followed_ones),
        f"/caseload/territories/{f.TERRITORY}": (HEADERS, [waiting, undecided]),
        "/caseload/awaiting-decision": (HEADERS, [undecided]),
        "/alerts": (HEADERS, [followed_ones[0]]),
        "/graph/export": (HEADERS, followed_ones),
        "/graph/export?format=graphml": (HEADERS, followed_ones),
    }
    def records(path: str, pathway: str) -> int:
        return sum(1 for a in _log(platform, pathway) if a[1] == f"list {path}")

    for path, (who, named) in reads.items():
        actor = "gc-1" if who is MANAGER else "coord-1"
        before = {pathway: records(path, pathway) for pathway in named}
        answer = client.get(path, headers=who)
        assert answer.status_code == 200, (path, answer.text)
        for pathway in named:
            assert pathway in answer.text, path
            # one record per person named, by the reader
            assert records(path, pathway) == before[pathway] + 1, (path, pathway)
            assert (actor, f"list {path}", "allowed") in _log(platform, pathway)
    alert_id = client.get("/alerts", headers=HEADERS).json()[0]["alert_id"]
    assert client.get(f"/alerts/{alert_id}", headers=MANAGER).status_code == 200
    without_gp = client.get("/graph/persons-without-attending-gp", headers=HEADERS)
    assert without_gp.status_code == 200
    assert ("gc-1", f"list /alerts/{alert_id}", "allowed") in _log(platform, followed_ones[0])
    # A read of one file is recorded once, by the file's own audit, not twice.
    client.get(f"/pathways/{undecided}", headers=HEADERS)
    assert [a for a in _log(platform, undecided) if a[1] in ("pathway",) or
            a[1].startswith(f"list /pathways/{undecided}")] == [
        ("coord-1", "pathway", "allowed")]


def test_the_chain_says_when_a_record_was_removed_or_changed(platform: Platform,
                                                             tmp_path: Path) -> None:
    client = platform.client
    pathway = followed(platform, 1)
    for _ in range(3):
        assert client.get("/caseload/gc-1", headers=MANAGER).status_code == 200
    data = tmp_path / "var"
    env = {"PARCOURS_DATA_DIR": str(data)}
    intact = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output

    # Whoever holds the file can drop the triggers: the chain still tells.
    with sqlite3.connect(data / "views.sqlite") as db:
        for verb in ("update", "delete"):
            db.execute(f"DROP TRIGGER read_audit_chain_no_{verb}")
        db.execute("UPDATE read_audit SET actor_id = 'quelqu-un' WHERE seq = 2")
    changed = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert changed.exit_code == 1 and "record 2" in changed.output, changed.output
    with sqlite3.connect(data / "views.sqlite") as db:  # each start puts the triggers back
        db.execute("DROP TRIGGER read_audit_chain_no_delete")
        db.execute("DELETE FROM read_audit WHERE seq = 2")
    removed = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert removed.exit_code == 1 and "missing" in removed.output, removed.output
    assert pathway


def test_the_alert_stream_is_audited(served: Served) -> None:
    platform = served.platform
    pathway = followed(platform, 1)
    stream = served.stream("gc-1", MANAGER)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    platform.at(STAY + timedelta(minutes=1))
    (event,) = stream.wait_for(1)
    assert event["event"] == "alert"

    def streamed() -> bool:
        return ("gc-1", "alert stream", "allowed") in _log(platform, pathway)
    wait_until(streamed, 10, "the stream's audit record")

