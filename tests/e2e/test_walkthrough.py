"""The README's walkthrough runs as written against a real ``parcours serve``, with and
without the demo data: what a newcomer pastes is what the suite checks."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from parcours.demo import load_demo
from shared.journal.application import Journal
from shared.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
JOURNAL = ["Referred", "Admitted", "CaseManagerAssigned", "Evaluated", "PlanRevised",
           "MemberJoined", "PlanValidated", "Hospitalised", "Discharged", "Closed"]


def walkthrough() -> str:
    """The first ``sh`` block after the ``## Walkthrough`` heading of docs/api.md."""
    readme = (ROOT / "docs" / "api.md").read_text()
    section = readme[readme.index("\n## Walkthrough\n"):]
    block = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert block, "docs/api.md: no ```sh block after ## Walkthrough"
    return block.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(data_dir: Path, **settings: str) -> Iterator[str]:
    """A real server in its own process, on a free port, stopped whatever happens."""
    port = free_port()
    env = {**os.environ, "PARCOURS_MODE": "embedded", "PARCOURS_DATA_DIR": str(data_dir),
           "PARCOURS_DEMO_ON_EMPTY": "false", **settings}
    server = subprocess.Popen([sys.executable, "-m", "parcours", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(server, base)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_health(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped:\n{server.communicate()[0]}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer /health within 60 s")


def run_walkthrough(base: str) -> str:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=ROOT,
                          env={**os.environ, "BASE": base}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def journal_types(output: str) -> list[str]:
    """The event types of the journal the walkthrough prints last (version, tab, type…).

    Alerts are left out: the rupture rules run beside the walkthrough and may record one
    between two of its steps (its dates are weeks old, so deadlines fall due as it goes)."""
    return [t for t in re.findall(r"^\d+\t(\w+)\t", output, re.M)
            if not t.startswith("Alert")]


def test_the_walkthrough_runs_from_referral_to_closure(tmp_path: Path) -> None:
    with serving(tmp_path / "var") as base:
        output = run_walkthrough(base)
    assert journal_types(output) == JOURNAL
    assert re.search(r"^pathway [0-9a-f-]{36}$", output, re.M)


def test_the_walkthrough_runs_next_to_the_demo_then_refuses_to_begin_before_its_end(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    journal = Journal(env=Settings(data_dir=data_dir).journal_env())
    load_demo(journal, today=date(2026, 11, 22))
    journal.close()
    with serving(data_dir) as base:
        output = run_walkthrough(base)
        again = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=ROOT,
                               env={**os.environ, "BASE": base}, capture_output=True,
                               text=True, timeout=120)
    assert journal_types(output) == JOURNAL
    # The same person referred again on 2026-10-05, before the episode's closure on 11-20:
    # received as any referral (a repeat referral for the commission), and the closed
    # episode refuses the admission.
    assert again.returncode != 0
    assert re.search(r"^referral [0-9a-f-]{36}$", again.stdout, re.M)
    assert "409" in again.stderr


def test_the_journal_shows_the_story_dates_and_when_they_were_recorded(
        tmp_path: Path) -> None:
    with serving(tmp_path / "var") as base:
        output = run_walkthrough(base)
    rows = {fields[1]: fields for fields in
            (line.split("\t") for line in output.splitlines()) if len(fields) == 5}
    assert rows["Evaluated"][2] == "2026-10-20T00:00:00+02:00"
    assert rows["Hospitalised"][2] == "2026-11-02T03:40:00+01:00"
    assert rows["Closed"][2] == "2026-11-20T00:00:00+01:00"
    for _, _, occurred, recorded, _ in rows.values():
        assert datetime.fromisoformat(recorded) > datetime.fromisoformat(occurred)
