"""The demo territory on the embedded store (SQLite), and the API serving it."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from parcours.demo import DemoSummary, load_demo
from shared import fictitious
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from tests.e2e.conftest import HEADERS

TODAY = date(2026, 11, 22)


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    summary: DemoSummary
    log: list[str | None]  # the global log's pathway event types; None for internal events
    refusals: list[dict[str, object]]


def global_log(journal: Journal) -> list[str | None]:
    return [e.type if e else None for _, e in read_log(journal, 1, 1_000_000)]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    settings = Settings(mode="embedded", data_dir=tmp_path_factory.mktemp("demo") / "var")
    journal = Journal(env=settings.journal_env())  # the file `make run` serves
    summary = load_demo(journal, today=TODAY)
    refusals = [e.data for _, e in read_log(journal, 1, 1_000_000)
                if e and e.type == "AdmissionRefused"]
    log = global_log(journal)
    journal.close()
    return Loaded(settings, summary, log, refusals)


def test_about_120_referrals_over_eighteen_months_with_every_outcome(loaded: Loaded) -> None:
    summary = loaded.summary
    assert 110 <= summary.referrals <= 130
    assert summary.pathways >= 110
    assert 0.10 <= summary.refused / summary.referrals <= 0.20
    assert summary.waited >= 1  # the waiting list was used
    assert summary.in_hospital >= 1
    assert summary.awaiting_decision >= 1
    assert summary.active >= 40 and summary.closed >= 15
    assert set(summary.closure_reasons) == {
        "death", "establishment", "stabilisation", "moved_out", "refused_by_person"}
    assert summary.dysfunctions == 12
    assert summary.events == sum(1 for t in loaded.log if t)


def test_each_refusal_gives_a_reason_and_an_orientation(loaded: Loaded) -> None:
    assert len(loaded.refusals) == loaded.summary.refused
    for refusal in loaded.refusals:
        orientation = refusal["orientation"]
        assert isinstance(orientation, dict) and orientation["to"]
        assert refusal["reason_code"] and refusal["reason"]


def test_the_same_seed_tells_the_same_story_on_any_store(loaded: Loaded) -> None:
    in_memory = Journal()
    load_demo(in_memory, today=TODAY)
    assert global_log(in_memory) == loaded.log
    other = Journal()
    load_demo(other, seed=7, today=TODAY)
    assert global_log(other) != loaded.log


@pytest.fixture
def client(loaded: Loaded) -> Iterator[TestClient]:
    with TestClient(create_app(loaded.settings), headers=HEADERS) as test_client:
        yield test_client


def test_the_api_serves_the_demo_territory(loaded: Loaded, client: TestClient) -> None:
    summary = loaded.summary
    managers = client.get(f"/territories/{fictitious.TERRITORY}/case-managers").json()
    assert [(m["case_manager_id"], m["capacity"]) for m in managers] == [
        ("gc-anne", 35), ("gc-bruno", 35), ("gc-claire", 20), ("gc-david", 35)]
    assert sum(m["active"] for m in managers) == summary.active - summary.waiting
    waiting = client.get(f"/territories/{fictitious.TERRITORY}/waiting-list").json()
    assert len(waiting) == summary.waiting

    loads = client.get("/caseload").json()
    assert sum(m["in_hospital"] for m in loads["case_managers"]) == summary.in_hospital
    assert loads["awaiting_decision"] == summary.awaiting_decision
