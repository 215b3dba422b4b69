"""The FHIR R4 read API over HTTP on the embedded platform: every resource returned parses
with the R4B models; access rules and the read audit are those of the rest of the API."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.fhir.resources import INS_SYSTEM
from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import admit, dump, manager, post, referred
from tests.e2e.conftest import MANAGER
from tests.e2e.fhir_models import valid

FHIR = "application/fhir+json"
OTHER_MANAGER = bearer("gc-2", "case_manager")


def fhir_get(client: TestClient, path: str, status: int = 200,
             headers: dict[str, str] | None = None) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR)
    body = response.json()
    valid(body)
    return body


@pytest.fixture
def story(client: TestClient) -> dict[str, Any]:
    """A person with two plan revisions, a GP who left and came back, two stays (one still
    open, with its R1 alert) and a validated plan."""
    manager(client, "gc-1")
    manager(client, "gc-2")
    pathway = referred(client, 11)
    admit(client, pathway, "gc-1")
    base = f"/pathways/{pathway}"
    post(client, f"{base}/plan-revisions", dump(f.plan(1)) | {"revised_on": "2026-01-21"},
         headers=MANAGER)
    gp = dump(f.member("gp-1"))
    post(client, f"{base}/care-circle", gp)
    post(client, f"{base}/plan-revisions/1/validation",
         {"validated_on": "2026-01-27", "received_via": "courrier", "received_on": "2026-01-28"})
    post(client, f"{base}/care-circle/gp-1/departure", {"left_on": "2026-02-01"})
    post(client, f"{base}/care-circle", {**gp, "joined_on": "2026-02-10"})
    post(client, f"{base}/plan-revisions", dump(f.plan(2)) | {"revised_on": "2026-02-12"},
         headers=MANAGER)
    first = datetime(2026, 3, 1, 10, tzinfo=UTC)
    post(client, f"{base}/hospitalisations", dump(f.stay(first)))
    post(client, f"{base}/discharges", dump(f.discharge(first + timedelta(days=6))))
    now = datetime.now(UTC).replace(microsecond=0)
    post(client, f"{base}/hospitalisations", dump(f.stay(now - timedelta(hours=2))))
    client.app.state.platform.tick()  # type: ignore[attr-defined]  # R1 fires at once
    person = client.get(base).json()["person"]
    return {"pathway": pathway, "ins": person["ins"], "now": now}


def test_capability_statement(client: TestClient) -> None:
    statement = fhir_get(client, "/fhir/metadata", headers={"Authorization": ""})
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert types == {"Patient", "EpisodeOfCare", "CarePlan", "CareTeam", "Encounter", "Flag"}


def test_patient_by_ins_with_fr_core_identifier(client: TestClient,
                                                story: dict[str, Any]) -> None:
    found = fhir_get(client, f"/fhir/Patient?identifier={INS_SYSTEM}|{story['ins']}")
    assert found["type"] == "searchset" and found["total"] == 1
    patient = found["entry"][0]["resource"]
    assert patient["id"] == story["pathway"]
    assert patient["identifier"][0] == {
        "use": "official", "system": INS_SYSTEM, "value": story["ins"],
        "type": patient["identifier"][0]["type"]}
    reliability = patient["extension"][0]
    assert reliability["url"].endswith("fr-core-identity-reliability")
    assert reliability["extension"][0]["valueCoding"]["code"] == "PROV"
    assert fhir_get(client, f"/fhir/Patient/{story['pathway']}") == patient
    unknown = f.fictitious_ins_for(__import__("random").Random(5), "1", date(1930, 1, 1))
    assert fhir_get(client, f"/fhir/Patient?identifier={INS_SYSTEM}|{unknown}")["total"] == 0
    posted = client.post("/fhir/Patient/_search",
                         data={"identifier": f"{INS_SYSTEM}|{story['ins']}"})
    assert posted.status_code == 200 and posted.json()["entry"][0]["resource"] == patient
    malformed = client.post("/fhir/Patient/_search", json={"identifier": story["ins"]})
    assert malformed.status_code == 400
    assert malformed.json()["resourceType"] == "OperationOutcome"


def test_episode_plans_care_team_stays_and_flags(client: TestClient,
                                                 story: dict[str, Any]) -> None:
    patient = f"patient=Patient/{story['pathway']}"

    def search(kind: str) -> list[dict[str, Any]]:
        return [e["resource"] for e in fhir_get(client, f"/fhir/{kind}?{patient}")["entry"]]

    (episode,) = search("EpisodeOfCare")
    assert episode["status"] == "active"
    assert episode["careManager"]["identifier"]["value"] == "gc-1"
    assert episode["managingOrganization"]["identifier"]["value"] == f.TERRITORY

    first, second = search("CarePlan")
    assert (first["status"], second["status"]) == ("revoked", "active")
    assert second["replaces"] == [{"reference": f"CarePlan/{first['id']}"}]
    assert first["note"][0]["text"].startswith("Validé par Dr GP-1 Fictif")
    activity = second["activity"][0]["detail"]
    assert activity["code"]["coding"][0]["code"] == "physiotherapy"
    assert activity["reasonCode"][0]["text"] == "Chutes répétées"
    assert activity["goal"][0]["display"] == "Sécuriser les transferts"

    (team,) = search("CareTeam")
    periods = [(p["member"]["identifier"]["value"], p["period"]) for p in team["participant"]]
    assert periods == [("gp-1", {"start": "2026-01-25", "end": "2026-02-01"}),
                       ("gp-1", {"start": "2026-02-10"})]
    assert team["participant"][0]["role"][0]["coding"][0]["code"] == "attending_gp"

    finished, ongoing = search("Encounter")
    assert finished["status"] == "finished"
    assert finished["class"]["code"] == "EMER"
    assert finished["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] == "home"
    assert finished["serviceProvider"]["display"] == "CH de Villefictive"
    assert ongoing["status"] == "in-progress" and "end" not in ongoing["period"]

    flags = search("Flag")
    assert "R1" in [flag["code"]["coding"][0]["code"] for flag in flags]
    assert {flag["status"] for flag in flags} == {"active"}

    for kind, resource in (("EpisodeOfCare", episode), ("CarePlan", first),
                           ("CareTeam", team), ("Encounter", ongoing)):
        assert fhir_get(client, f"/fhir/{kind}/{resource['id']}") == resource


def test_everything_bundles_it_all(client: TestClient, story: dict[str, Any]) -> None:
    bundle = fhir_get(client, f"/fhir/Patient/{story['pathway']}/$everything")
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:7] == ["Patient", "EpisodeOfCare", "CarePlan", "CarePlan", "CareTeam",
                         "Encounter", "Encounter"]
    assert set(kinds[7:]) == {"Flag"} and kinds[7:]
    assert all(e["fullUrl"].endswith(f"/fhir/{e['resource']['resourceType']}/"
                                     f"{e['resource']['id']}") for e in bundle["entry"])


def test_same_access_rules_and_audit(client: TestClient, story: dict[str, Any]) -> None:
    pathway = story["pathway"]
    outcome = fhir_get(client, f"/fhir/Patient/{pathway}", 404, headers=OTHER_MANAGER)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"
    assert fhir_get(client, f"/fhir/Encounter?patient={pathway}",
                    headers=OTHER_MANAGER)["total"] == 0
    assert fhir_get(client, f"/fhir/Patient?identifier={INS_SYSTEM}|{story['ins']}",
                    headers=OTHER_MANAGER)["total"] == 0
    analyst = bearer("analyste-1", "analyst")
    fhir_get(client, f"/fhir/Patient/{pathway}/$everything", 404, headers=analyst)
    assert fhir_get(client, f"/fhir/Patient/{pathway}", 401,
                    headers={"Authorization": ""})["issue"][0]["code"] == "login"
    assert fhir_get(client, f"/fhir/Patient/{pathway}", headers=MANAGER)["id"] == pathway

    log = client.get(f"/pathways/{pathway}/access-log").json()
    fhir_reads = [(r["actor_id"], r["action"], r["outcome"]) for r in log
                  if r["action"].startswith("fhir-")]
    assert ("gc-2", "fhir-patient", "refused") in fhir_reads
    assert ("gc-2", "fhir-encounter", "refused") in fhir_reads
    assert ("analyste-1", "fhir-everything", "refused") in fhir_reads
    assert ("gc-1", "fhir-patient", "allowed") in fhir_reads


def test_a_search_without_its_parameter_is_an_operation_outcome(client: TestClient) -> None:
    outcome = fhir_get(client, "/fhir/Encounter", 400)
    assert outcome["issue"][0]["code"] == "invalid"
    bad = fhir_get(client, "/fhir/Patient?identifier=urn:oid:1.2.3|123", 400)
    assert bad["issue"][0]["details"]["coding"][0]["code"] == "fhir.search_invalid"
    assert fhir_get(client, "/fhir/Patient/not-a-uuid", 404)["resourceType"] == \
        "OperationOutcome"
