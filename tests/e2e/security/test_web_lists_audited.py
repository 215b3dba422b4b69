"""The pages that list persons (Ma file active, Alertes, Coordination) record one access per
person they show, as their API equivalents do."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.e2e.api import admit, dump, manager, post, referred
from tests.e2e.conftest import HEADERS

COORDINATOR_PAGES = ("/coordination",)
MANAGER_PAGES = ("/file-active", "/alertes")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", demo_on_empty=False)
    with TestClient(create_app(settings), headers=HEADERS, base_url="http://127.0.0.1",
                    follow_redirects=False) as client:
        yield client


def _signed_in(api: TestClient, user: str) -> TestClient:
    browser = TestClient(api.app, base_url="http://127.0.0.1", follow_redirects=False)
    form = browser.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    assert browser.post("/connexion", data={"user": user, "csrf": token.group(1)}
                        ).status_code == 303
    return browser


def _records(api: TestClient, pathway: str, actor: str) -> list[str]:
    answer = api.get(f"/pathways/{pathway}/access-log")
    assert answer.status_code == 200, answer.text
    return [r["action"] for r in answer.json() if r["actor_id"] == actor]


def test_each_list_page_records_every_person_it_shows(api: TestClient) -> None:
    manager(api, "gc-anne")
    persons = [referred(api, seed) for seed in (1, 2)]
    for pathway in persons:
        admit(api, pathway, "gc-anne")
        stay = dump(f.stay(datetime.now(UTC) - timedelta(hours=1)))
        post(api, f"/pathways/{pathway}/hospitalisations", stay)  # an R1 alert at once
    for user, pages in (("gc-anne", MANAGER_PAGES), ("coord-demo", COORDINATOR_PAGES)):
        browser = _signed_in(api, user)
        for path in pages:
            shown = browser.get(path)
            assert shown.status_code == 200, (path, shown.text[:300])
            for pathway in persons:
                assert pathway in shown.text, (path, pathway)  # the page shows them
                assert f"list {path}" in _records(api, pathway, user), (path, pathway)


def test_a_file_page_is_recorded_once(api: TestClient) -> None:
    manager(api, "gc-anne")
    pathway = referred(api, 1)
    admit(api, pathway, "gc-anne")
    browser = _signed_in(api, "gc-anne")
    assert browser.get(f"/dossiers/{pathway}").status_code == 200
    assert _records(api, pathway, "gc-anne") == ["web:journal"]
