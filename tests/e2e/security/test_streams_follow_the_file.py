"""Alert streams follow the file's rule on the day each alert is sent, as the REST reads do: a
member who left the care circle, or a case manager whose file went to a colleague, is neither
replayed nor sent the person's alerts, and a stream ends with the credential that opened it.

Each test ends its reading on a notice the reader causes (a change of their own channels): the
stream sends in one order, so an alert it was going to send would have come before it."""

from datetime import timedelta

from services.notifications import store
from shared import fictitious as f
from shared.api.auth import development_key, sign
from shared.domain.principal import Principal
from shared.fictitious import TERRITORY
from tests.conftest import _KEY, bearer
from tests.e2e.api import dump, manager, post
from tests.e2e.conftest import MANAGER
from tests.e2e.security.served import Served
from tests.e2e.test_ruptures_api import STAY, followed
from tests.integration.notification_helpers import SseClient, wait_until

NURSE = bearer("nurse-1", "referrer", None)


def _alerts(stream: SseClient) -> list[dict[str, str]]:
    return [e for e in stream.events if e.get("event") == "alert"]


def _until_marked(stream: SseClient, count: int) -> None:
    wait_until(lambda: sum(e.get("event") == "notice" for e in stream.events) >= count, 10,
               "the reader's own notice on the stream")


def test_a_member_who_left_is_not_replayed_the_persons_alerts(served: Served) -> None:
    platform = served.platform
    pathway = followed(platform, 1, nurse=True)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    platform.at(STAY + timedelta(minutes=1))
    while_member = served.stream("nurse-1", NURSE, last_event_id="0")
    (alert,) = while_member.wait_for(1)
    assert alert["event"] == "alert" and pathway in alert["data"]
    wait_until(lambda: served.streamed_records("nurse-1", pathway) == 1, 10, "its record")

    post(platform.client, f"/pathways/{pathway}/care-circle/nurse-1/departure",
         {"left_on": STAY.date().isoformat()}, headers=MANAGER)
    platform.at(STAY + timedelta(days=1))
    assert platform.client.get("/alerts", headers=NURSE).json() == []
    resumed = served.stream("nurse-1", NURSE, last_event_id="0")
    fresh = served.stream("nurse-1", NURSE)
    served.mark("nurse-1", NURSE)
    for stream in (resumed, fresh):
        _until_marked(stream, 2)
        assert _alerts(stream) == []
    assert served.streamed_records("nurse-1", pathway) == 1  # nothing shown, nothing recorded


def test_after_a_transfer_the_alerts_go_to_the_new_case_manager_only(
        served: Served) -> None:
    platform, client = served.platform, served.platform.client
    manager(client, "gc-2")
    pathway = followed(platform, 1)
    post(client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    platform.at(STAY + timedelta(minutes=1))
    live = served.stream("gc-1", MANAGER)  # opened while she follows the person
    (hospitalised,) = live.wait_for(1)
    post(client, f"/pathways/{pathway}/case-manager",
         {"case_manager_id": "gc-2", "reason": "Rééquilibrage des files actives"})
    # The stay lasts: the alert of a long stay comes due after the transfer, for gc-2.
    platform.at(STAY + timedelta(days=30))
    with served.platform.client.app.state.notifications.db.transaction() as tx:  # type: ignore[attr-defined]
        assert [d.alert.rule for d in store.stream_after(tx, "gc-1", 0)] == ["R1"]
        assert "R4" in [d.alert.rule for d in store.stream_after(tx, "gc-2", 0)]
    resumed = served.stream("gc-1", MANAGER, last_event_id="0")
    served.mark("gc-1", MANAGER)
    for stream in (live, resumed):
        _until_marked(stream, 2)
    assert _alerts(live) == [hospitalised]
    assert _alerts(resumed) == []


def test_a_stream_ends_when_the_token_that_opened_it_expires(served: Served) -> None:
    platform = served.platform
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    platform.at(STAY + timedelta(minutes=1))
    token = sign(development_key(_KEY), Principal("gc-1", "Gestionnaire", "case_manager",
                                                  TERRITORY), "parcours-dev", "parcours",
                 lifetime_s=2)
    stream = served.stream("gc-1", {"Authorization": f"Bearer {token}"})
    wait_until(lambda: any(e.get("event") == "closed" for e in stream.events), 10,
               "the stream to close")
    closed = stream.events[-1]
    assert "signed_out" in closed["data"]
    assert _alerts(stream)  # it showed the alert while the token held
    stream.join()
