"""No personal data in the server's log: a real ``parcours serve`` gets the requests that carry
names and INS (referrals, FHIR searches by GET and by POST, a refused form, filters in a
page's query), and its whole output is searched for them afterwards."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.conftest import HEADERS, MANAGER, referral_json
from tests.integration.notification_helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[3]
FHIR_INS = "urn:oid:1.2.250.1.213.1.4.8"


def _personal(seed: int) -> list[str]:
    person = referral_json(seed)["person"]
    ins = person["ins"]
    return [ins, " ".join((ins[0], ins[1:3], ins[3:5])), person["family_name"],
            person["given_names"], person["birth_date"]]


def _wait_healthy(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    def healthy() -> bool:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    wait_until(healthy, 60, "the server to answer")


def test_the_server_log_holds_no_name_nor_ins(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    env = {**os.environ, "PARCOURS_MODE": "embedded", "PARCOURS_DATA_DIR": str(tmp_path / "var"),
           "PARCOURS_DEMO_ON_EMPTY": "false"}
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "parcours", "serve", "--port",
                                   str(port)], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(server, base, log)
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as api:
            api.put("/territories/dac-val-fictif/case-managers/gc-1",
                    json={"name": "Gestionnaire Un"}).raise_for_status()
            for seed in (1, 2):
                referral = referral_json(seed)
                pathway = api.post("/pathways", json=referral).json()["pathway_id"]
                api.post(f"/pathways/{pathway}/admission", json={
                    "decided_on": "2026-01-20", "case_manager_id": "gc-1"}).raise_for_status()
                ins = referral["person"]["ins"]
                by_get = api.get("/fhir/Patient", params={"identifier": f"{FHIR_INS}|{ins}"})
                assert by_get.status_code == 200 and by_get.json()["total"] == 1, by_get.text
                by_post = api.post("/fhir/Patient/_search",
                                   data={"identifier": f"{FHIR_INS}|{ins}"})
                assert by_post.status_code == 200 and by_post.json()["total"] == 1, by_post.text
                api.get("/caseload/gc-1", headers=MANAGER,
                        params={"q": referral["person"]["family_name"]})
                broken = {**referral, "person": {**referral["person"], "birth_date": "x"}}
                assert api.post("/pathways", json=broken).status_code == 422
    finally:
        server.terminate()
        server.wait(timeout=15)
    output = log.read_text()
    assert '"GET /fhir/Patient?' in output  # the requests were logged, without their query
    leaked = {value for seed in (1, 2) for value in _personal(seed) if value in output}
    assert not leaked, output[-3000:]
