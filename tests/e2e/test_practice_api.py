"""One scenario per rule of the practice, through HTTP on the embedded platform."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from shared import fictitious as f
from tests.e2e.api import admit, dump, manager, post, referred, rule, view
from tests.e2e.conftest import referral_json

TERRITORY = f.TERRITORY


def test_capacity_waiting_list_and_a_place_freed_by_a_closure(client: TestClient) -> None:
    manager(client, "gc-1", capacity=1)
    first, second, third = (referred(client, seed) for seed in (1, 2, 3))
    admit(client, first)
    assert view(client, first)["case_manager_id"] == "gc-1"

    admit(client, second)
    assert view(client, second)["waiting_rank"] == 1
    admit(client, third)
    waiting = client.get(f"/territories/{TERRITORY}/waiting-list").json()
    assert [(w["rank"], w["pathway_id"]) for w in waiting] == [(1, second), (2, third)]

    post(client, f"/pathways/{first}/closure", dump(f.closure()))
    assert view(client, second)["case_manager_id"] == "gc-1"
    assert view(client, second)["waiting_rank"] is None
    waiting = client.get(f"/territories/{TERRITORY}/waiting-list").json()
    assert [w["pathway_id"] for w in waiting] == [third]


def test_a_full_manager_cannot_be_chosen(client: TestClient) -> None:
    manager(client, "gc-1", capacity=1)
    admit(client, referred(client, 1), "gc-1")
    second = referred(client, 2)
    error = admit(client, second, "gc-1", status=409)["error"]
    assert error["code"] == "caseload.full"
    assert view(client, second)["status"] == "awaiting_decision"


def test_more_capacity_takes_persons_off_the_waiting_list(client: TestClient) -> None:
    manager(client, "gc-1", capacity=1)
    admit(client, referred(client, 1))
    waiting = referred(client, 2)
    admit(client, waiting)
    manager(client, "gc-1", capacity=2)
    assert view(client, waiting)["case_manager_id"] == "gc-1"
    loads = client.get(f"/territories/{TERRITORY}/case-managers").json()
    assert loads == [{"case_manager_id": "gc-1", "name": "Gestionnaire gc-1", "capacity": 2,
                      "active": 2, "free_places": 0}]


def test_default_capacity_is_35(client: TestClient) -> None:
    manager(client, "gc-1")
    assert client.get(f"/territories/{TERRITORY}/case-managers").json()[0]["capacity"] == 35


def test_transfer_to_another_manager_with_a_reason(client: TestClient) -> None:
    manager(client, "gc-1")
    manager(client, "gc-2", capacity=1)
    pathway = referred(client, 1)
    admit(client, pathway, "gc-1")
    post(client, f"/pathways/{pathway}/case-manager",
         {"case_manager_id": "gc-2", "reason": "Rééquilibrage des files actives"})
    assert view(client, pathway)["case_manager_id"] == "gc-2"
    last = client.get(f"/pathways/{pathway}/journal").json()[-1]
    assert last["data"]["reason"] == "Rééquilibrage des files actives"
    other = referred(client, 2)
    admit(client, other, "gc-1")
    rule(client, f"/pathways/{other}/case-manager",
         {"case_manager_id": "gc-2", "reason": "x"}, "caseload.full")


def test_refusal_orients_and_a_new_referral_opens_the_next_episode(client: TestClient) -> None:
    pathway = referred(client, 1)
    post(client, f"/pathways/{pathway}/refusal", {
        "decided_on": "2026-01-20", "reason_code": "other_service_better_suited",
        "reason": "Un SSIAD suffit", "orientation": {"to": "SSIAD fictif", "kind": "service"}})
    rule(client, f"/pathways/{pathway}/admission", {"decided_on": "2026-01-21"},
         "episode.refused")
    again = post(client, "/pathways", referral_json(1) | {"referred_on": "2026-02-01"}, 201)
    assert again["pathway_id"] == pathway
    episodes = client.get(f"/pathways/{pathway}/episodes").json()
    assert [(e["number"], e["decision"]) for e in episodes] == [(1, "refused"), (2, None)]


def test_a_refusal_needs_an_orientation(client: TestClient) -> None:
    pathway = referred(client, 1)
    response = client.post(f"/pathways/{pathway}/refusal", json={
        "decided_on": "2026-01-20", "reason_code": "criteria_not_met", "reason": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "body.orientation"


def test_evaluation_scales_out_of_range_are_refused(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    body = dump(f.evaluation())
    body["scales"]["chess"] = 6
    response = client.post(f"/pathways/{pathway}/evaluations", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "body.scales.chess"


def test_next_evaluation_follows_settings_and_discharge_calls_for_a_return_evaluation(
    client: TestClient,
) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    assert view(client, pathway)["next_evaluation_due"] == "2026-02-19"  # admitted + 30 days
    post(client, f"/pathways/{pathway}/evaluations", dump(f.evaluation()))
    assert view(client, pathway)["next_evaluation_due"] == "2026-07-31"  # + 180 days
    post(client, f"/pathways/{pathway}/hospitalisations", dump(f.stay()))
    post(client, f"/pathways/{pathway}/discharges", dump(f.discharge()))
    assert view(client, pathway)["next_evaluation_due"] == "2026-03-14"  # discharge + 7 days


def test_plan_revisions_diff_and_validation_by_the_attending_gp(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    post(client, f"/pathways/{pathway}/plan-revisions", dump(f.plan(1)))
    second = dump(f.plan(2))
    second["problems"][0]["objectives"][0]["services"][0]["frequency"] = "3/semaine"
    second["problems"].append({"description": "Isolement", "objectives": [
        {"description": "Rompre l'isolement",
         "services": [{"type": "day_care", "provider": "Accueil de jour fictif",
                       "frequency": "1/semaine"}]}]})
    post(client, f"/pathways/{pathway}/plan-revisions", second)
    rule(client, f"/pathways/{pathway}/plan-revisions", dump(f.plan(2)),
         "plan.revision_out_of_sequence")

    changes = client.get(f"/pathways/{pathway}/plan-revisions/1/diff/2").json()
    assert changes["removed"] == []
    assert len(changes["added"]) == 3
    assert changes["changed"] == [
        "problème « Chutes répétées » › objectif « Sécuriser les transferts » › "
        "physiotherapy par Kiné fictif : fréquence 2/semaine → 3/semaine"
    ]
    assert len(client.get(f"/pathways/{pathway}/plan-revisions").json()) == 2

    validation = {"validated_on": "2026-02-05", "received_via": "courrier",
                  "received_on": "2026-02-06"}
    rule(client, f"/pathways/{pathway}/plan-revisions/2/validation", validation,
         "plan.no_attending_gp")
    post(client, f"/pathways/{pathway}/care-circle", dump(f.member()))
    post(client, f"/pathways/{pathway}/plan-revisions/2/validation", validation)
    assert view(client, pathway)["plan_validated"] is True
    rule(client, f"/pathways/{pathway}/plan-revisions/2/validation", validation,
         "plan.already_validated")
    rule(client, f"/pathways/{pathway}/plan-revisions/9/validation", validation,
         "plan.unknown_revision")


def test_care_circle_has_at_most_one_attending_gp_at_a_time(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    post(client, f"/pathways/{pathway}/care-circle", dump(f.member("gp-1")))
    post(client, f"/pathways/{pathway}/care-circle", dump(f.member("nurse-1", "nurse")))
    rule(client, f"/pathways/{pathway}/care-circle", dump(f.member("gp-2")),
         "care_circle.attending_gp_present")
    rule(client, f"/pathways/{pathway}/care-circle", dump(f.member("nurse-1", "nurse")),
         "care_circle.already_member")
    post(client, f"/pathways/{pathway}/care-circle/gp-1/departure", {"left_on": "2026-04-01"})
    rule(client, f"/pathways/{pathway}/care-circle/gp-1/departure", {"left_on": "2026-04-02"},
         "care_circle.not_member")
    later = dump(f.member("gp-2"))
    later["joined_on"] = "2026-04-01"
    post(client, f"/pathways/{pathway}/care-circle", later)

    def circle(on: str) -> set[str]:
        members = client.get(f"/pathways/{pathway}/care-circle", params={"on": on}).json()
        return {m["member"]["member_id"] for m in members}

    assert circle("2026-03-31") == {"gp-1", "nurse-1"}
    assert circle("2026-04-01") == {"gp-2", "nurse-1"}


def test_hospital_stays_never_overlap_and_may_be_recorded_late(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    transfer = {"establishment": "SSR fictif", "ward": "SSR",
                "transferred_at": "2026-03-04T09:00:00Z"}
    rule(client, f"/pathways/{pathway}/hospitalisations/transfer", transfer, "stay.not_open")
    rule(client, f"/pathways/{pathway}/discharges", dump(f.discharge()), "stay.not_open")
    post(client, f"/pathways/{pathway}/hospitalisations", dump(f.stay()))
    rule(client, f"/pathways/{pathway}/hospitalisations", dump(f.stay()), "stay.already_open")
    post(client, f"/pathways/{pathway}/hospitalisations/transfer", transfer)
    assert view(client, pathway)["open_stay"]["establishment"] == "SSR fictif"
    early = dump(f.discharge(datetime(2026, 2, 1, tzinfo=UTC)))
    rule(client, f"/pathways/{pathway}/discharges", early, "date.out_of_order")
    post(client, f"/pathways/{pathway}/discharges", dump(f.discharge()))
    journal = client.get(f"/pathways/{pathway}/journal").json()
    stay = next(e for e in journal if e["type"] == "Hospitalised")
    recorded = datetime.fromisoformat(stay["recorded_at"])
    assert recorded - datetime.fromisoformat(stay["occurred_at"]) > timedelta(days=30)


def test_notes_and_dysfunctions_are_recorded(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    post(client, f"/pathways/{pathway}/notes", dump(f.note()))
    post(client, f"/pathways/{pathway}/dysfunctions", dump(f.dysfunction()))
    assert view(client, pathway)["last_contact_on"] == "2026-02-10"
    types = [e["type"] for e in client.get(f"/pathways/{pathway}/journal").json()]
    assert types[-2:] == ["FollowUpNoted", "DysfunctionReported"]


def test_a_closed_episode_accepts_no_more_events(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    post(client, f"/pathways/{pathway}/closure", dump(f.closure()))
    rule(client, f"/pathways/{pathway}/notes", dump(f.note()), "episode.closed")
    rule(client, f"/pathways/{pathway}/closure", dump(f.closure()), "episode.closed")
    handover = {"closed_on": "2026-06-30", "reason_code": "stabilisation"}
    response = client.post(f"/pathways/{pathway}/closure", json=handover)
    assert response.status_code == 422  # a stabilisation names who takes over


def test_the_file_as_it_was_at_a_past_date_or_version(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    before_admission = datetime.now(UTC)
    admit(client, pathway)
    then = client.get(f"/pathways/{pathway}",
                      params={"as_of": before_admission.isoformat()}).json()
    assert (then["status"], then["version"]) == ("awaiting_decision", 1)
    assert view(client, pathway)["status"] == "active"
    assert client.get(f"/pathways/{pathway}", params={"version": 2}).json()["status"] == "active"
    too_early = client.get(f"/pathways/{pathway}", params={"as_of": "2020-01-01T00:00:00Z"})
    assert too_early.status_code == 404


def test_coordinators_see_dysfunctions_by_territory_and_category(client: TestClient) -> None:
    manager(client, "gc-1")
    pathway = referred(client, 1)
    admit(client, pathway)
    for category in ("missing_resource", "missing_resource", "poor_articulation"):
        post(client, f"/pathways/{pathway}/dysfunctions",
             dump(f.dysfunction().model_copy(update={"category": category})))
    assert client.get("/dysfunctions/summary").json() == [
        {"territory": TERRITORY, "category": "missing_resource", "reports": 2},
        {"territory": TERRITORY, "category": "poor_articulation", "reports": 1},
    ]
    articulation = client.get("/dysfunctions", params={"category": "poor_articulation"}).json()
    assert [r["reported_by"] for r in articulation] == ["coord-1"]
    other = client.get("/dysfunctions/summary", params={"territory": "ailleurs"})
    assert other.status_code == 403


def test_caseload_for_the_manager_and_the_coordinator(client: TestClient) -> None:
    manager(client, "gc-1", capacity=2)
    followed, in_hospital, waiting = (referred(client, seed) for seed in (1, 2, 3))
    awaiting = referred(client, 4)
    for pathway in (followed, in_hospital, waiting):
        admit(client, pathway)
    post(client, f"/pathways/{followed}/plan-revisions", dump(f.plan(1)))
    post(client, f"/pathways/{followed}/notes", dump(f.note()))
    post(client, f"/pathways/{in_hospital}/hospitalisations", dump(f.stay()))

    caseload = client.get("/caseload/gc-1", params={"today": "2026-03-01"}).json()
    assert (caseload["capacity"], caseload["free_places"], caseload["active"]) == (2, 0, 2)
    mine = {p["pathway_id"]: p for p in caseload["persons"]}
    assert set(mine) == {followed, in_hospital}
    assert mine[followed]["location"] == "home"
    assert mine[followed]["last_contact_on"] == "2026-02-10"
    assert mine[followed]["plan_validated"] is False
    assert mine[followed]["next_evaluation_due"] == "2026-02-19"
    assert mine[followed]["evaluation_overdue"] is True
    assert mine[in_hospital]["location"] == "hospital"
    assert mine[in_hospital]["in_hospital_since"].startswith("2026-03-01T10:00")

    board = client.get(f"/caseload/territories/{TERRITORY}",
                       params={"today": "2026-03-01"}).json()
    assert board["case_managers"] == [{
        "case_manager_id": "gc-1", "case_manager_name": "Gestionnaire gc-1", "capacity": 2,
        "free_places": 0, "active": 2, "in_hospital": 1, "evaluations_overdue": 2,
        "plans_not_validated": 1, "open_alerts": 0}]
    assert [(p["pathway_id"], p["waiting_rank"]) for p in board["waiting_list"]] == [(waiting, 1)]
    assert [p["pathway_id"] for p in board["awaiting_decision"]] == [awaiting]
