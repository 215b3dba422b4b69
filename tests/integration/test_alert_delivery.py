"""End to end on the real services: a hospitalisation recorded through the API becomes an R1
alert fired by the ruptures service, and reaches a webhook on a local HTTP server, an SSE
client and an e-mail in a local SMTP server. Every part runs as its own `parcours` process."""

import json
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen

import httpx
import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.api import dump
from tests.e2e.conftest import referral_json
from tests.integration.notification_helpers import (
    SmtpSink,
    SseClient,
    WebhookReceiver,
    free_port,
    wait_until,
)
from tests.integration.processes import start, stop

COORDINATOR = bearer("coord-1", "coordinator")
MANAGER = bearer("gc-1", "case_manager")


@pytest.fixture
def notify_port() -> int:
    return free_port()


def test_a_hospitalisation_reaches_webhook_stream_and_mailbox(
    alerts: Settings, tmp_path: Path, smtp: SmtpSink, notify_port: int,
    receiver: WebhookReceiver,
) -> None:
    notifications = f"http://127.0.0.1:{notify_port}"
    with TestClient(create_app(alerts), headers=COORDINATOR) as api:
        api.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                json={"name": "Gestionnaire Un"}).raise_for_status()
        pathway = api.post("/pathways", json=referral_json(8)).json()[
            "pathway_id"]
        api.post(f"/pathways/{pathway}/admission",
                 # Admitted today: no evaluation nor médecin traitant is overdue yet, so the
                 # only alert is the stay's.
                 json={"decided_on": datetime.now(UTC).date().isoformat(),
                       "case_manager_id": "gc-1"}).raise_for_status()
        api.post(f"/pathways/{pathway}/care-circle",
                 json=dump(f.member("nurse-1", "nurse"))).raise_for_status()

        with _processes(alerts, tmp_path, smtp, notify_port):
            wait_until(lambda: _answers(notifications), 60, "the notifications API")
            chosen = httpx.put(f"{notifications}/notifications/preferences/gc-1",
                               headers=MANAGER,
                               json={"channels": ["webhook", "email"],
                                     "webhook_url": receiver.url,
                                     "email": "gc-1@exemple.invalid"})
            chosen.raise_for_status()
            receiver.secret = chosen.json()["webhook_secret"]  # shown once, for this receiver
            stream = SseClient(f"{notifications}/notifications/stream/nurse-1")
            assert stream.status == 200

            now = datetime.now(UTC).replace(microsecond=0)
            api.post(f"/pathways/{pathway}/hospitalisations",
                     json=dump(f.stay(now))).raise_for_status()

            wait_until(lambda: bool(receiver.accepted()) and bool(smtp.mails), 90,
                       "the webhook and the e-mail")
            (event,) = stream.wait_for(1, timeout_s=30)

    (hook,) = receiver.accepted()
    assert hook.signature_valid
    # Outside the platform, only that an alert waits and where; the stream, signed in, has it.
    posted = json.loads(hook.body)
    streamed = json.loads(event["data"])["alert"]
    assert streamed["rule"] == "R1" and streamed["pathway_id"] == pathway
    assert posted["alert"] == {"alert_id": streamed["alert_id"],
                               "url": "https://parcours.exemple.invalid/alertes"}
    assert posted["recipient"] == {"professional_id": "gc-1"}
    (mail,) = smtp.mails
    assert mail.recipients == ["gc-1@exemple.invalid"]
    assert mail.message["Subject"] == "[Parcours] Une alerte vous attend"
    assert "Hospitalisation" not in mail.message.as_string()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class _processes:
    """relay, ruptures and notify as real processes, stopped cleanly at the end."""

    def __init__(self, settings: Settings, tmp_path: Path, smtp: SmtpSink, port: int) -> None:
        self.args = (settings, tmp_path, smtp, port)
        self.started: list[tuple[Popen[bytes], Path]] = []

    def __enter__(self) -> None:
        settings, tmp_path, smtp, port = self.args
        env = {"PARCOURS_ALERTS_TOPIC": settings.alerts_topic,
               "PARCOURS_SCHEDULER_INTERVAL_S": "0.2",
               "PARCOURS_NOTIFICATIONS_WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
               "PARCOURS_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
               "PARCOURS_NOTIFICATIONS_SMTP_ALLOW_PLAINTEXT": "true",
               "PARCOURS_NOTIFICATIONS_PUBLIC_URL": "https://parcours.exemple.invalid",
               "PARCOURS_NOTIFICATIONS_PORT": str(port),
               "PARCOURS_NOTIFICATIONS_DISPATCH_INTERVAL_S": "0.2",
               "PARCOURS_NOTIFICATIONS_SSE_POLL_S": "0.2"}
        for command in (["relay"], ["project", "ruptures"], ["notify"]):
            log = tmp_path / f"{command[-1]}.log"
            self.started.append((start(command, settings, log, **env), log))

    def __exit__(self, *_: object) -> None:
        for process, log in self.started:
            assert stop(process) == 0, log.read_text()[-3000:]
