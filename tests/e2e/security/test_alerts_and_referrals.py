"""Finding 5: alerts follow the rule of the file, on the day of the request: a member who
left the care circle no longer lists, reads, acknowledges or resolves the person's alerts, and
a relative in the circle reads but does not handle them.
Finding 6: a referral's conflict tells which pathway a person has only to someone who may read
it, and the attempt is in the read audit (a referring professional is told of no conflict: see
test_referral_oracle.py)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import dump, manager, post
from tests.e2e.conftest import HEADERS, MANAGER, referral_json
from tests.e2e.test_ruptures_api import STAY, Clock, Platform, followed, start

NURSE = bearer("nurse-1", "referrer", None)
DAUGHTER = bearer("fille-1", "referrer", None)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        yield Platform(client, clock)


def _r1(platform: Platform) -> tuple[str, str]:
    """A followed person with a nurse and a relative in the circle, and the R1 alert of a
    stay, addressed to both."""
    pathway = followed(platform, 1, nurse=True)
    daughter = dump(f.member("fille-1", "family_carer"))
    post(platform.client, f"/pathways/{pathway}/care-circle", daughter)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    (alert,) = [a for a in platform.at(STAY + timedelta(minutes=1)) if a["rule"] == "R1"]
    recipients = {r["professional_id"] for r in alert["recipients"]}
    assert {"nurse-1", "fille-1"} <= recipients
    return pathway, alert["alert_id"]


def _ids(answer: Any) -> list[str]:
    return [a["alert_id"] for a in answer.json()]


def test_a_member_who_left_no_longer_sees_nor_handles_the_alerts(platform: Platform) -> None:
    client = platform.client
    pathway, alert = _r1(platform)
    assert _ids(client.get("/alerts", headers=NURSE)) == [alert]  # while a member
    assert client.get(f"/alerts/{alert}", headers=NURSE).status_code == 200

    post(client, f"/pathways/{pathway}/care-circle/nurse-1/departure",
         {"left_on": STAY.date().isoformat()}, headers=MANAGER)
    platform.at(STAY + timedelta(days=1))
    assert _ids(client.get("/alerts", headers=NURSE)) == []
    assert client.get(f"/alerts/{alert}", headers=NURSE).status_code == 404
    for action in ("acknowledgement", "resolution"):
        answer = client.post(f"/alerts/{alert}/{action}", json={"comment": "vu"}, headers=NURSE)
        assert answer.status_code == 404, answer.text
    assert client.get(f"/alerts/{alert}").json()["state"] == "open"  # nothing was recorded


def test_a_relative_reads_the_alert_but_does_not_handle_it(platform: Platform) -> None:
    client = platform.client
    _, alert = _r1(platform)
    assert client.get(f"/alerts/{alert}", headers=DAUGHTER).status_code == 200
    refused = client.post(f"/alerts/{alert}/acknowledgement", json={}, headers=DAUGHTER)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "access.denied"
    handled = client.post(f"/alerts/{alert}/acknowledgement", json={}, headers=NURSE)
    assert handled.status_code == 200, handled.text


def test_a_referral_conflict_names_the_pathway_only_to_its_readers(platform: Platform) -> None:
    client = platform.client
    pathway = followed(platform, 1)
    outsider = bearer("gc-2", "case_manager")  # DAC staff who does not follow the person
    answer = client.post("/pathways", json=referral_json(1), headers=outsider)
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "pathway.already_open"
    assert pathway not in answer.text and "details" not in error

    told = client.post("/pathways", json=referral_json(1), headers=HEADERS).json()["error"]
    assert told["details"]["pathway_id"] == pathway  # the territory's coordinator reads it

    # A referring professional is not told of a conflict at all (finding 9): their referral
    # is received, and the coordination sees it beside the pathway.
    referrer = client.post("/pathways", json=referral_json(1),
                           headers=bearer("dr-ailleurs", "referrer", None))
    assert referrer.status_code == 202, referrer.text
    assert pathway not in referrer.text

    log = client.get(f"/pathways/{pathway}/access-log").json()
    attempts = [(r["actor_id"], r["outcome"]) for r in log if r["action"] == "referral-conflict"]
    assert attempts == [("gc-2", "refused"), ("coord-1", "allowed")]
