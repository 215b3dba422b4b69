"""Finding 3: webhooks cannot reach inside, travel signed with a timestamp and a secret of
their own, and the delivery log shows stable codes."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notifications.webhook import verify
from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import dump, manager, post
from tests.e2e.conftest import MANAGER
from tests.e2e.security.conftest import Outside
from tests.e2e.test_ruptures_api import STAY, Clock, Platform, followed, start
from tests.integration.notification_helpers import WebhookReceiver, free_port, wait_until

ADMIN = bearer("admin-1", "administrator")
PREFERENCES = "/notifications/preferences/gc-1"

INSIDE = [
    "http://127.0.0.1:9/alertes", "http://[::1]:9/", "http://0x7f000001/", "http://2130706433/",
    "http://localhost/", "https://127.1/", "https://[::ffff:127.0.0.1]/",
    "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/", "https://10.0.0.1/",
    "https://172.16.0.1/", "https://192.168.1.10/", "https://[fd00::1]/", "https://224.0.0.1/",
    "https://0.0.0.0/", "https://100.64.0.1/", "https://100.100.100.200/",
    # IPv6 transition prefixes wrapping 127.0.0.1: 6to4, NAT64 (well-known and local), Teredo.
    "https://[2002:7f00:1::]/", "https://[64:ff9b::7f00:1]/", "https://[64:ff9b:1::7f00:1]/",
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
]


def _platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              loopback: bool) -> Iterator[Platform]:
    monkeypatch.setenv("PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP", str(loopback))
    clock = Clock()
    with start(tmp_path, clock) as client:
        manager(client, "gc-1")
        yield Platform(client, clock)


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               outside: Outside) -> Iterator[Platform]:
    """The settings of a real deployment: https to public addresses only."""
    yield from _platform(tmp_path, monkeypatch, loopback=False)


@pytest.fixture
def testing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            outside: Outside) -> Iterator[Platform]:
    """The tests' setting: plain http to loopback allowed, nothing else inside."""
    yield from _platform(tmp_path, monkeypatch, loopback=True)


def _set(platform: Platform, url: str, **more: Any) -> Any:
    return platform.client.put(PREFERENCES, headers=MANAGER,
                               json={"channels": ["webhook"], "webhook_url": url, **more})


def _alert(platform: Platform) -> None:
    pathway = followed(platform, 1)
    post(platform.client, f"/pathways/{pathway}/hospitalisations", dump(f.stay(STAY)))
    platform.at(STAY + timedelta(minutes=1))


def _log(platform: Platform) -> list[dict[str, Any]]:
    answer = platform.client.get("/notifications/deliveries", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return [e for d in answer.json() if d["channel"] == "webhook" for e in d["log"]]


@pytest.mark.parametrize("url", INSIDE)
def test_an_internal_address_is_refused_when_it_is_set(production: Platform, url: str) -> None:
    answer = _set(production, url)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] in ("webhook.address_refused",
                                              "webhook.https_required")
    assert production.client.get(PREFERENCES, headers=MANAGER).json()["is_default"] is True


def test_plain_http_is_refused_even_to_a_public_address(production: Platform,
                                                        outside: Outside) -> None:
    outside.name("alertes.exemple.test", "93.184.215.14")
    answer = _set(production, "http://alertes.exemple.test/parcours")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "webhook.https_required"
    assert _set(production, "https://alertes.exemple.test/parcours").status_code == 200


@pytest.mark.parametrize("url", [u for u in INSIDE if "127" not in u and "::1]" not in u
                                 and "0x7f" not in u and "2130706433" not in u
                                 and "localhost" not in u])
def test_the_test_setting_opens_loopback_only(testing: Platform, url: str) -> None:
    answer = _set(testing, url)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "webhook.address_refused"


def test_a_name_that_also_resolves_inside_is_refused(production: Platform,
                                                     outside: Outside) -> None:
    outside.name("double.exemple.test", "93.184.215.14", "10.1.2.3")
    answer = _set(production, "https://double.exemple.test/")
    assert answer.json()["error"]["code"] == "webhook.address_refused"


def test_a_name_rebound_inside_after_the_check_is_never_called(production: Platform,
                                                              outside: Outside) -> None:
    outside.name("rebond.exemple.test", "93.184.215.14")
    assert _set(production, "https://rebond.exemple.test/alertes").status_code == 200
    outside.name("rebond.exemple.test", "127.0.0.1")  # DNS rebinding, after the check
    _alert(production)
    wait_until(lambda: bool(_log(production)), 30, "the webhook attempt")
    assert [e["error"] for e in _log(production)] == ["webhook.address_refused"]
    # ``outside`` also fails the test if anything was called on the way.


def test_the_connection_goes_to_the_address_checked_and_is_signed_with_a_timestamp(
    testing: Platform, outside: Outside
) -> None:
    receiver = WebhookReceiver()
    try:
        answers = iter([["127.0.0.1"], ["127.0.0.1"], ["10.9.9.9"], ["10.9.9.9"]])
        calls: list[str] = []

        def resolver(host: str, port: int) -> list[str]:
            calls.append(host)
            return next(answers)

        outside.names = _Resolving(resolver)
        url = f"http://recepteur.exemple.test:{receiver.server.server_port}/alertes"
        chosen = _set(testing, url)
        assert chosen.status_code == 200, chosen.text
        secret = chosen.json()["webhook_secret"]
        assert secret and len(secret) >= 40
        receiver.secret = secret
        _alert(testing)
        wait_until(lambda: bool(receiver.accepted()), 30, "the webhook")
        (hook,) = receiver.accepted()
        # One resolution at set time, one at the send, and the send used its own answer.
        assert len(calls) == 2
        assert hook.host == f"recepteur.exemple.test:{receiver.server.server_port}"
        assert hook.signature_valid and hook.timestamp is not None
        assert not verify(secret, hook.body, str(int(hook.timestamp) - 301), hook.signature)
        assert not verify("un-autre-secret", hook.body, hook.timestamp, hook.signature)
    finally:
        receiver.close()


class _Resolving(dict[str, list[str]]):
    """Answers every name through a function (see ``Outside.names``)."""

    def __init__(self, resolver: Any) -> None:
        super().__init__()
        self.resolver = resolver

    def __contains__(self, host: object) -> bool:
        return True

    def __getitem__(self, host: str) -> list[str]:
        return list(self.resolver(host, 0))


def test_the_secret_is_the_subscription_s_own_and_shown_once(testing: Platform) -> None:
    first = _set(testing, "http://127.0.0.1:9/a").json()["webhook_secret"]
    assert first
    assert testing.client.get(PREFERENCES, headers=MANAGER).json()["webhook_secret"] is None
    assert _set(testing, "http://127.0.0.1:9/a").json()["webhook_secret"] is None  # same address
    renewed = _set(testing, "http://127.0.0.1:9/a", renew_webhook_secret=True).json()
    moved = _set(testing, "http://127.0.0.1:9/b").json()
    assert len({first, renewed["webhook_secret"], moved["webhook_secret"]}) == 3
    other = testing.client.put("/notifications/preferences/gc-2",
                               headers=bearer("gc-2", "case_manager"),
                               json={"channels": ["webhook"],
                                     "webhook_url": "http://127.0.0.1:9/a"}).json()
    assert other["webhook_secret"] not in (first, moved["webhook_secret"])


def test_the_delivery_log_shows_a_stable_code_not_the_library_s_text(testing: Platform) -> None:
    assert _set(testing, f"http://127.0.0.1:{free_port()}/personne").status_code == 200
    _alert(testing)
    wait_until(lambda: bool(_log(testing)), 30, "the webhook attempt")
    (entry,) = _log(testing)
    assert entry["error"] == "webhook.connection_failed"
    assert "refused" not in str(entry).lower() and "errno" not in str(entry).lower()
