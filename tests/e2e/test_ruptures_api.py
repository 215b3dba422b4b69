"""Rupture rules R1–R7 with an injected clock, through HTTP on the embedded platform.
Tests never sleep: the clock is moved and the scheduler ticked by hand."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parcours.bootstrap import create_app
from parcours.cli import app as cli
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.e2e.api import admit, dump, manager, post, referred
from tests.e2e.conftest import HEADERS, MANAGER
from tests.integration.notification_helpers import WebhookReceiver, wait_until

STAY = datetime(2026, 3, 1, 10, tzinfo=UTC)
LEFT = STAY + timedelta(days=6)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 20, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Platform:
    def __init__(self, client: TestClient, clock: Clock) -> None:
        self.client, self.clock = client, clock

    def at(self, moment: datetime) -> list[dict[str, Any]]:
        """Moves the clock, lets the scheduler fire, returns every alert so far."""
        self.clock.now = moment
        self.client.app.state.platform.tick()  # type: ignore[attr-defined]
        alerts: list[dict[str, Any]] = self.client.get("/alerts").json()
        return alerts

    def rules(self, moment: datetime, pathway: str) -> list[str]:
        return sorted(a["rule"] for a in self.at(moment) if a["pathway_id"] == pathway)


def start(tmp_path: Path, clock: Clock) -> TestClient:
    # Each story is typed at once, then the clock is moved through it by hand: its facts lie
    # ahead of the clock when they are typed, which the future-date check must let through.
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", scheduler_interval_s=3600,
                        alerts_at_once=False,
                        future_date_tolerance_days=400)
    return TestClient(create_app(settings, clock), headers=HEADERS)


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    # The webhook test's receiver listens on loopback, in plain http.
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP", "true")
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        yield Platform(client, clock)


def followed(platform: Platform, seed: int, gp: bool = True, nurse: bool = False) -> str:
    client = platform.client
    pathway = referred(client, seed)
    admit(client, pathway, "gc-1")
    if gp:
        post(client, f"/pathways/{pathway}/care-circle", dump(f.member("gp-1")))
    if nurse:
        post(client, f"/pathways/{pathway}/care-circle", dump(f.member("nurse-1", "nurse")))
    post(client, f"/pathways/{pathway}/evaluations", dump(f.evaluation()))
    return pathway


def test_r1_hospitalisation_alerts_the_manager_and_the_care_circle_once(
    platform: Platform,
) -> None:
    pathway = followed(platform, 1, nurse=True)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    alerts = [a for a in platform.at(STAY + timedelta(minutes=1)) if a["rule"] == "R1"]
    assert len(alerts) == 1
    assert {r["professional_id"] for r in alerts[0]["recipients"]} == {"gc-1", "gp-1", "nurse-1"}
    assert alerts[0]["state"] == "open"
    assert platform.rules(STAY + timedelta(minutes=2), pathway) == ["R1"]  # not twice


def test_r2_discharge_alerts_at_once(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    assert platform.rules(STAY + timedelta(minutes=1), pathway) == ["R1"]
    post(platform.client, f"/pathways/{pathway}/discharges", dump(f.discharge(LEFT)))
    assert platform.rules(LEFT + timedelta(minutes=1), pathway) == ["R1", "R2"]


def test_at_once_alerts_about_a_stay_long_over_lapse(platform: Platform) -> None:
    pathway = followed(platform, 1)  # recorded weeks later, or history being loaded
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    post(platform.client, f"/pathways/{pathway}/discharges",
         dump(f.discharge(LEFT).model_copy(update={"discharge_letter_received": True})))
    after = LEFT + timedelta(days=2, hours=1)
    assert "R1" not in platform.rules(after, pathway)
    assert "R2" not in platform.rules(after, pathway)


def test_r3_no_revision_after_discharge_home_and_the_condition_that_clears(
    platform: Platform,
) -> None:
    late, in_time = followed(platform, 1), followed(platform, 2)
    for pathway in (late, in_time):
        post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        post(platform.client, f"/pathways/{pathway}/discharges",
             dump(f.discharge(LEFT).model_copy(update={"discharge_letter_received": True})))
    assert "R3" not in platform.rules(LEFT + timedelta(days=6), late)
    post(platform.client, f"/pathways/{in_time}/plan-revisions",
         dump(f.plan(1)) | {"revised_on": "2026-03-09"}, headers=MANAGER)
    after = LEFT + timedelta(days=7, minutes=1)
    r3 = [a for a in platform.at(after) if a["rule"] == "R3"]
    assert [a["pathway_id"] for a in r3] == [late]
    assert r3[0]["severity"] == "critical"
    assert {r["role"] for r in r3[0]["recipients"]} == {"case_manager", "coordinator"}


def test_r4_long_stay_without_a_note_by_the_case_manager(platform: Platform) -> None:
    silent, noted = followed(platform, 1), followed(platform, 2)
    for pathway in (silent, noted):
        post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    note = dump(f.note()) | {"contact_on": "2026-03-05"}
    post(platform.client, f"/pathways/{noted}/notes", note, headers=MANAGER)
    assert "R4" not in platform.rules(STAY + timedelta(days=9), silent)
    later = STAY + timedelta(days=10, minutes=1)
    assert "R4" in platform.rules(later, silent)
    assert "R4" not in platform.rules(later, noted)


def test_r5_periodic_evaluation_overdue(platform: Platform) -> None:
    client = platform.client
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    post(client, f"/pathways/{pathway}/care-circle", dump(f.member("gp-1")))
    assert "R5" not in platform.rules(datetime(2026, 2, 19, 12, tzinfo=UTC), pathway)
    assert "R5" in platform.rules(datetime(2026, 2, 20, 1, tzinfo=UTC), pathway)

    evaluated = followed(platform, 2)  # evaluated on 2026-02-01: due 2026-07-31
    assert "R5" not in platform.rules(datetime(2026, 7, 31, 12, tzinfo=UTC), evaluated)
    assert "R5" in platform.rules(datetime(2026, 8, 1, 1, tzinfo=UTC), evaluated)


def test_r6_no_attending_gp_or_a_plan_left_unvalidated(platform: Platform) -> None:
    without_gp = followed(platform, 1, gp=False)
    with_gp = followed(platform, 2)
    for pathway in (without_gp, with_gp):
        post(platform.client, f"/pathways/{pathway}/plan-revisions", dump(f.plan(1)))
    post(platform.client, f"/pathways/{with_gp}/plan-revisions/1/validation",
         {"validated_on": "2026-02-02", "received_via": "courrier", "received_on": "2026-02-04"})
    moment = datetime.now(UTC) + timedelta(days=16)
    alerts = [a for a in platform.at(moment) if a["rule"] == "R6"]
    titles = sorted(a["title"].split(" :")[0] for a in alerts if a["pathway_id"] == without_gp)
    assert titles == ["PSI non validé", "Pas de médecin traitant"]
    assert [a for a in alerts if a["pathway_id"] == with_gp] == []


def test_r7_no_discharge_letter_after_a_discharge_home(platform: Platform) -> None:
    missing, received = followed(platform, 1), followed(platform, 2)
    for pathway in (missing, received):
        post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        post(platform.client, f"/pathways/{pathway}/discharges", dump(f.discharge(LEFT)))
    post(platform.client, f"/pathways/{received}/discharge-letter",
         {"received_on": "2026-03-08"})
    assert "R7" not in platform.rules(LEFT + timedelta(days=2), missing)
    later = LEFT + timedelta(days=3, minutes=1)
    assert "R7" in platform.rules(later, missing)
    assert "R7" not in platform.rules(later, received)


def test_an_information_alert_ends_when_acknowledged(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    alert = platform.at(STAY + timedelta(minutes=1))[0]
    assert alert["rule"] == "R1"
    base = f"/alerts/{alert['alert_id']}"
    post(platform.client, f"{base}/acknowledgement", {"comment": "Je m'en occupe"}, headers=MANAGER)
    ended = platform.client.get(base).json()
    assert (ended["state"], ended["acknowledged_by"], ended["resolved_by"]) == (
        "resolved", "gc-1", "gc-1")
    error = post(platform.client, f"{base}/acknowledgement", {}, 409)["error"]
    assert error["code"] == "alert.not_open"
    mine = platform.client.get("/alerts", params={"recipient": "gc-1"}).json()
    assert [a["alert_id"] for a in mine] == [alert["alert_id"]]


def test_an_alert_is_acknowledged_then_resolved_with_a_comment(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    post(platform.client, f"/pathways/{pathway}/discharges", dump(f.discharge(LEFT)))
    r7 = next(a for a in platform.at(LEFT + timedelta(days=3, minutes=1)) if a["rule"] == "R7")
    base = f"/alerts/{r7['alert_id']}"
    post(platform.client, f"{base}/acknowledgement", {"comment": "J'appelle le service"},
         headers=MANAGER)
    assert platform.client.get("/alerts", params={"state": "acknowledged"}).json()[0][
        "alert_id"] == r7["alert_id"]
    post(platform.client, f"{base}/resolution", {"comment": "Lettre demandée par fax"},
         headers=MANAGER)
    resolved = platform.client.get(base).json()
    assert (resolved["state"], resolved["resolved_by"], resolved["resolution"]) == (
        "resolved", "gc-1", "Lettre demandée par fax")


def test_resolving_an_open_alert_acknowledges_it_in_the_same_call(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    post(platform.client, f"/pathways/{pathway}/discharges", dump(f.discharge(LEFT)))
    r7 = next(a for a in platform.at(LEFT + timedelta(days=3, minutes=1)) if a["rule"] == "R7")
    post(platform.client, f"/alerts/{r7['alert_id']}/resolution", {}, headers=MANAGER)
    journal = platform.client.get(f"/pathways/{pathway}/journal").json()
    ends = [e["type"] for e in journal
            if e["data"].get("alert_id") == r7["alert_id"] and e["type"] != "AlertRaised"]
    assert ends == ["AlertAcknowledged", "AlertResolved"]


def test_an_alert_fires_once_across_restarts_and_replays(tmp_path: Path) -> None:
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        platform = Platform(client, clock)
        pathway = followed(platform, 1)
        post(client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        assert platform.rules(STAY + timedelta(minutes=1), pathway) == ["R1"]
    with start(tmp_path, clock) as client:  # a restart
        assert Platform(client, clock).rules(STAY + timedelta(minutes=2), pathway) == ["R1"]
        client.app.state.platform.views.close()  # type: ignore[attr-defined]
    result = CliRunner().invoke(cli, ["replay", "ruptures"],
                                env={"PARCOURS_DATA_DIR": str(tmp_path / "var")})
    assert result.exit_code == 0, result.output
    assert "rebuilt tables swapped in" in result.output
    with start(tmp_path, clock) as client:  # after a replay
        platform = Platform(client, clock)
        assert platform.rules(STAY + timedelta(minutes=3), pathway) == ["R1"]
        journal = client.get(f"/pathways/{pathway}/journal").json()
        assert [e["type"] for e in journal].count("AlertRaised") == 1


def test_embedded_mode_delivers_alerts_by_webhook(platform: Platform) -> None:
    receiver = WebhookReceiver()
    try:
        answer = platform.client.put("/notifications/preferences/gc-1", headers=MANAGER,
                                     json={"channels": ["webhook"], "webhook_url": receiver.url})
        assert answer.status_code == 200, answer.text
        receiver.secret = answer.json()["webhook_secret"]
        pathway = followed(platform, 1)
        post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
        platform.at(STAY + timedelta(minutes=1))
        wait_until(lambda: bool(receiver.accepted()), 30, "the webhook")
        assert receiver.accepted()[0].signature_valid
        other = platform.client.get("/notifications/preferences/gc-1")  # as the coordinator
        assert other.status_code == 403
    finally:
        receiver.close()


def _ended(platform: Platform, pathway: str, rule: str) -> dict[str, Any]:
    """The rule's alert on the pathway and the journal entry that ended it."""
    alert = next(a for a in platform.client.get("/alerts").json()
                 if a["pathway_id"] == pathway and a["rule"] == rule)
    journal = platform.client.get(f"/pathways/{pathway}/journal").json()
    resolutions = [e for e in journal if e["type"] == "AlertResolved"
                   and e["data"]["alert_id"] == alert["alert_id"]]
    assert len(resolutions) == 1, f"{rule} resolved {len(resolutions)} times"
    return {"alert": alert, "resolution": resolutions[0], "journal": journal}


def test_r7_clears_itself_when_the_letter_arrives(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    post(platform.client, f"/pathways/{pathway}/discharges", dump(f.discharge(LEFT)))
    assert "R7" in platform.rules(LEFT + timedelta(days=3, minutes=1), pathway)
    before = platform.client.get("/caseload/gc-1", headers=MANAGER).json()
    post(platform.client, f"/pathways/{pathway}/discharge-letter", {"received_on": "2026-03-10"})
    platform.at(LEFT + timedelta(days=3, minutes=2))
    ended = _ended(platform, pathway, "R7")
    letter = next(e for e in ended["journal"] if e["type"] == "DischargeLetterReceived")
    assert ended["alert"]["state"] == "resolved"
    assert ended["alert"]["resolved_by"] == "parcours"
    assert ended["resolution"]["data"]["resolved_by"] == "parcours"
    assert ended["resolution"]["data"]["cleared_by_event_id"] == letter["event_id"]
    assert ended["resolution"]["actor"] == {"id": "parcours", "role": "system"}
    after = platform.client.get("/caseload/gc-1", headers=MANAGER).json()
    assert _open_alerts(after, pathway) == _open_alerts(before, pathway) - 1


def _open_alerts(caseload: Any, pathway: str) -> int:
    persons = caseload["persons"] if isinstance(caseload, dict) else caseload
    count: int = next(p["open_alerts"] for p in persons if p["pathway_id"] == pathway)
    return count


def test_r3_clears_itself_with_the_return_evaluation(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    post(platform.client, f"/pathways/{pathway}/discharges",
         dump(f.discharge(LEFT).model_copy(update={"discharge_letter_received": True})))
    assert "R3" in platform.rules(LEFT + timedelta(days=7, minutes=1), pathway)
    back_home = dump(f.evaluation("post_discharge")) | {"evaluated_on": "2026-03-09"}
    post(platform.client, f"/pathways/{pathway}/evaluations", back_home, headers=MANAGER)
    ended = _ended(platform, pathway, "R3")
    evaluation = next(e for e in ended["journal"] if e["data"].get("kind") == "post_discharge")
    assert ended["resolution"]["data"]["cleared_by_event_id"] == evaluation["event_id"]


def test_r5_clears_itself_with_an_evaluation_and_r6_when_a_gp_joins(platform: Platform) -> None:
    client = platform.client
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")  # no evaluation, no GP
    fired = platform.rules(datetime(2026, 2, 20, 1, tzinfo=UTC), pathway)
    assert fired == ["R5", "R6"]
    post(client, f"/pathways/{pathway}/evaluations",
         dump(f.evaluation()) | {"evaluated_on": "2026-02-19"}, headers=MANAGER)
    assert _ended(platform, pathway, "R5")["alert"]["state"] == "resolved"
    post(client, f"/pathways/{pathway}/care-circle",
         dump(f.member("gp-1")) | {"joined_on": "2026-02-20"}, headers=MANAGER)
    assert _ended(platform, pathway, "R6")["alert"]["state"] == "resolved"
    assert platform.rules(datetime(2026, 2, 21, tzinfo=UTC), pathway) == ["R5", "R6"]  # once


def test_r4_clears_itself_with_a_note_and_the_alert_that_still_holds_stays_open(
        platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    assert "R4" in platform.rules(STAY + timedelta(days=10, minutes=1), pathway)
    someone_else = dump(f.note()) | {"contact_on": "2026-03-11"}  # not the case manager
    post(platform.client, f"/pathways/{pathway}/notes", someone_else)
    r4 = next(a for a in platform.client.get("/alerts").json() if a["rule"] == "R4")
    assert r4["state"] == "open"
    post(platform.client, f"/pathways/{pathway}/notes", someone_else, headers=MANAGER)
    assert _ended(platform, pathway, "R4")["alert"]["state"] == "resolved"
