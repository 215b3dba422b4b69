"""An administrator acts on their own territory only: another territory's administrator
neither changes its capacities, nor reads its delivery log, nor touches its professionals'
channels, nor retries its dead letters."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import dump, manager, post
from tests.e2e.conftest import MANAGER
from tests.e2e.test_ruptures_api import STAY, Clock, Platform, followed, start

OURS = bearer("admin-val", "administrator")
OTHER = bearer("admin-autre", "administrator", "dac-autre")
NOWHERE = bearer("admin-nulle-part", "administrator", None)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        pathway = followed(Platform(client, clock), 1)
        post(client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        put = client.put("/notifications/preferences/gc-1", headers=MANAGER,
                         json={"channels": ["sse", "email"], "email": "gc-1@exemple.invalid"})
        assert put.status_code == 200, put.text
        platform = Platform(client, clock)
        platform.at(STAY + timedelta(minutes=1))
        yield platform


def test_another_territorys_administrator_changes_no_capacity(platform: Platform) -> None:
    path = f"/territories/{f.TERRITORY}/case-managers/gc-1"
    for headers in (OTHER, NOWHERE):
        answer = platform.client.put(path, headers=headers, json={"name": "G", "capacity": 1})
        assert answer.status_code == 403, answer.text
        listed = platform.client.get(f"/territories/{f.TERRITORY}/case-managers",
                                     headers=headers)
        assert listed.status_code == 403, listed.text
    assert platform.client.put(path, headers=OURS, json={"name": "G", "capacity": 30}
                               ).status_code == 200
    assert platform.client.put("/territories/dac-autre/case-managers/gc-a", headers=OTHER,
                               json={"name": "A"}).status_code == 200


def test_another_territorys_administrator_reads_no_delivery(platform: Platform) -> None:
    ours = platform.client.get("/notifications/deliveries", headers=OURS)
    assert ours.status_code == 200 and ours.json(), ours.text
    other = platform.client.get("/notifications/deliveries", headers=OTHER)
    assert other.status_code == 200 and other.json() == [], other.text
    assert platform.client.get("/notifications/dead-letters", headers=OTHER).json() == []
    assert platform.client.get("/notifications/deliveries", headers=NOWHERE).status_code == 403
    delivery = ours.json()[0]["delivery_id"]
    retried = platform.client.post(f"/notifications/dead-letters/{delivery}/retry",
                                   headers=OTHER)
    assert retried.status_code == 404, retried.text


def test_another_territorys_administrator_touches_no_channel(platform: Platform) -> None:
    channels = "/notifications/preferences/gc-1"
    for headers in (OTHER, NOWHERE):
        assert platform.client.get(channels, headers=headers).status_code == 403
        disabled = platform.client.delete(f"{channels}/channels/email", headers=headers)
        assert disabled.status_code == 403, disabled.text
    assert platform.client.get(channels, headers=MANAGER).json()["channels"] == ["sse", "email"]
    kept = platform.client.delete(f"{channels}/channels/email", headers=OURS)
    assert kept.status_code == 200 and kept.json()["channels"] == ["sse"], kept.text
