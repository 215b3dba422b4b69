"""The ADT intake killed between the journal's commit and its own table of keys: the
hospital, which got no ACK, sends the message again, and the movement is not applied twice
(the message's key is in the journal's transaction); a correction of that movement still
finds it. A real `parcours serve` process, killed by a failpoint, started again."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared import fictitious as f
from tests.e2e.conftest import HEADERS, referral_json
from tests.e2e.hl7_helpers import message, send
from tests.e2e.test_walkthrough import ROOT, free_port
from tests.integration.notification_helpers import wait_until

SENDERS = {"SIH_FICTIF^CH_VILLEFICTIVE": {"territory": f.TERRITORY,
                                          "establishment": "CH de Villefictive"}}
ADMITTED = datetime.fromisoformat("2026-11-02T03:40:00+01:00")


@contextmanager
def serve(data_dir: Path, http_port: int, hl7_port: int, log: Path,
          failpoints: str = "") -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PARCOURS_MODE": "embedded", "PARCOURS_DATA_DIR": str(data_dir),
           "PARCOURS_DEMO_ON_EMPTY": "false", "PARCOURS_HL7_PORT": str(hl7_port),
           "PARCOURS_HL7_SENDERS": json.dumps(SENDERS), "PARCOURS_FAILPOINTS": failpoints}
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "parcours", "serve", "--port", str(http_port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(server, http_port, log), 60, "the server answering")
        yield server
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=15)


def _answers(server: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    if server.poll() is not None:
        raise AssertionError(f"the server stopped:\n{log.read_text()[-3000:]}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _hospital_facts(base: str, pathway: str) -> list[str]:
    journal = httpx.get(f"{base}/pathways/{pathway}/journal", headers=HEADERS).json()
    return [e["type"] for e in journal if e["actor"]["role"] == "hospital"]


def test_a_resend_after_a_crash_before_the_intake_kept_its_key_is_applied_once(
        tmp_path: Path) -> None:
    http_port, hl7_port, log = free_port(), free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{http_port}"
    with serve(tmp_path, http_port, hl7_port, log, "hl7.after_apply=1") as server:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as http:
            http.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                     json={"name": "Gestionnaire gc-1"}).raise_for_status()
            body = referral_json(3)
            pathway = http.post("/pathways", json=body).json()["pathway_id"]
            http.post(f"/pathways/{pathway}/admission", json={
                "decided_on": "2026-01-20", "case_manager_id": "gc-1"}).raise_for_status()
        a01 = message("a01", INS=body["person"]["ins"], ADMITTED=ADMITTED, CONTROL="MSG-1",
                      MOVEMENT="MVT-1")
        with pytest.raises(ConnectionError):  # killed after the journal's commit: no ACK
            send(hl7_port, a01)
        assert server.wait(timeout=30) == -9

    # Fresh ports: the dead server's could be taken meanwhile by another test's process.
    http_port, hl7_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    with serve(tmp_path, http_port, hl7_port, log):
        assert _hospital_facts(base, pathway) == ["Hospitalised"]  # committed before the kill
        again = send(hl7_port, a01)
        assert (again.code, again.error) == ("AA", None), again.raw
        assert "déjà reçu" in again.raw.decode()
        assert _hospital_facts(base, pathway) == ["Hospitalised"]
        # The movement's event was remembered on the resend: its correction finds it.
        earlier = ADMITTED - timedelta(hours=2)
        fix = send(hl7_port, message("z99", INS=body["person"]["ins"], ADMITTED=earlier,
                                     MOVED=earlier, CONTROL="MSG-2", MOVEMENT="MVT-1",
                                     ORIGINAL="A01", CLASS="E"))
        assert (fix.code, fix.error) == ("AA", None), fix.raw
        assert _hospital_facts(base, pathway) == ["Hospitalised", "MovementCorrected"]


def test_an_incident_raised_before_a_crash_is_not_raised_again_by_the_resend(
        tmp_path: Path) -> None:
    """Killed after the incident's commit, before the intake kept the message's key: the
    resend finds it in the journal's keys, is answered AE as it would have been, and the case
    manager still has one incident."""
    http_port, hl7_port, log = free_port(), free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{http_port}"
    with serve(tmp_path, http_port, hl7_port, log, "hl7.after_apply=1") as server:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as http:
            http.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                     json={"name": "Gestionnaire gc-1"}).raise_for_status()
            body = referral_json(4)
            pathway = http.post("/pathways", json=body).json()["pathway_id"]
            http.post(f"/pathways/{pathway}/admission", json={
                "decided_on": "2026-01-20", "case_manager_id": "gc-1"}).raise_for_status()
        a01 = message("a01", INS=body["person"]["ins"], ADMITTED=ADMITTED, CONTROL="MSG-1",
                      MOVEMENT="MVT-1", FAMILY="AUTREPERSONNE")
        with pytest.raises(ConnectionError):
            send(hl7_port, a01)
        assert server.wait(timeout=30) == -9

    http_port, hl7_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    with serve(tmp_path, http_port, hl7_port, log):
        assert _hospital_facts(base, pathway) == ["IdentityVigilanceRaised"]
        for _ in range(2):
            again = send(hl7_port, a01)
            assert (again.code, again.error) == ("AE", "204"), again.raw
            assert _hospital_facts(base, pathway) == ["IdentityVigilanceRaised"]
