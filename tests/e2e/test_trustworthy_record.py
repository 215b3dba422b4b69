"""A record professionals can trust, through the HTTP API: facts carry the story's dates,
implausible dates are refused, one identity per person, the referrer and the validator are who
signed in, the national criteria count, and reads say what they cannot do."""

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from shared import fictitious as f
from tests.conftest import bearer
from tests.e2e.api import admit, dump, facts, pathway_of, post, referred, rule, view
from tests.e2e.conftest import MANAGER, referral_json

GP = bearer("gp-1", "referrer", None)  # a médecin traitant is a referring professional


def journal(client: TestClient, pathway: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get(f"/pathways/{pathway}/journal").json()
    return entries


def followed(client: TestClient, seed: int = 1) -> str:
    pathway = referred(client, seed)
    admit(client, pathway, "gc-1")
    return pathway


def implausible(client: TestClient, path: str, body: Any, code: str, status: int) -> Any:
    """Posts a command with a date that cannot be; checks its error and that nothing was
    stored."""
    pathway = path.split("/")[2]
    before = facts(client, pathway)
    error = post(client, path, body, status)["error"]
    assert error["code"] == code, error
    assert facts(client, pathway) == before
    return error


# -- 1. dates ---------------------------------------------------------------------------------

def test_every_fact_occurs_on_its_own_date_and_is_recorded_when_typed(
        client: TestClient) -> None:
    pathway = referred(client, 1)  # referred on 2026-01-15
    admit(client, pathway, "gc-1")  # decided on 2026-01-20
    post(client, f"/pathways/{pathway}/evaluations", dump(f.evaluation()))  # on 2026-02-01
    post(client, f"/pathways/{pathway}/notes", dump(f.note()))  # contact on 2026-02-10
    occurred = {e["type"]: e["occurred_at"] for e in journal(client, pathway)}
    assert occurred["Referred"] == "2026-01-15T00:00:00+01:00"  # midnight in Europe/Paris
    assert occurred["Admitted"] == "2026-01-20T00:00:00+01:00"
    assert occurred["CaseManagerAssigned"] == "2026-01-20T00:00:00+01:00"
    assert occurred["Evaluated"] == "2026-02-01T00:00:00+01:00"
    assert occurred["FollowUpNoted"] == "2026-02-10T00:00:00+01:00"
    for entry in journal(client, pathway):
        assert datetime.fromisoformat(entry["recorded_at"]) > datetime.fromisoformat(
            entry["occurred_at"])


def test_dates_in_the_future_are_typing_errors(client: TestClient) -> None:
    pathway = followed(client)
    error = implausible(client, f"/pathways/{pathway}/evaluations",
                        dump(f.evaluation()) | {"evaluated_on": "2099-02-01"}, "date.in_future",
                        422)
    assert error["details"]["latest"]
    assert "futur" in error["message"]
    stay = dump(f.stay(datetime.fromisoformat("2099-03-01T10:00:00+01:00")))
    implausible(client, f"/pathways/{pathway}/hospitalisations", stay, "date.in_future", 422)
    future_referral = referral_json(2) | {"referred_on": "2099-01-01"}
    assert client.post("/pathways", json=future_referral).status_code == 422


def test_facts_before_what_they_follow_are_refused(client: TestClient) -> None:
    pathway = followed(client)  # admitted on 2026-01-20
    error = implausible(client, f"/pathways/{pathway}/evaluations",
                        dump(f.evaluation()) | {"evaluated_on": "2026-01-10"},
                        "date.out_of_order", 409)
    assert error["details"] == {"not_before": "2026-01-20"}
    implausible(client, f"/pathways/{pathway}/hospitalisations",
                dump(f.stay(datetime.fromisoformat("2020-05-01T10:00:00+02:00"))),
                "date.out_of_order", 409)
    implausible(client, f"/pathways/{pathway}/notes", dump(f.note()) | {"contact_on": "2025-12-01"},
                "date.out_of_order", 409)
    implausible(client, f"/pathways/{pathway}/closure",
                dump(f.closure()) | {"closed_on": "2000-01-01"}, "date.out_of_order", 409)
    post(client, f"/pathways/{pathway}/notes", dump(f.note()))  # 2026-02-10
    error = implausible(client, f"/pathways/{pathway}/closure",
                        dump(f.closure()) | {"closed_on": "2026-02-01"}, "date.out_of_order", 409)
    assert error["details"] == {"not_before": "2026-02-10"}  # the episode's last fact

    undecided = referred(client, 2)  # referred on 2026-01-15
    implausible(client, f"/pathways/{undecided}/admission", {"decided_on": "2026-01-02"},
                "date.out_of_order", 409)


def test_a_new_episode_cannot_begin_before_the_previous_one_ended(client: TestClient) -> None:
    pathway = followed(client)
    post(client, f"/pathways/{pathway}/closure", dump(f.closure()))  # closed on 2026-06-30
    too_early = client.post("/pathways", json=referral_json(1) | {"referred_on": "2026-05-01"})
    assert too_early.status_code == 409, too_early.text
    assert too_early.json()["error"]["code"] == "date.out_of_order"
    assert len(client.get(f"/pathways/{pathway}/episodes").json()) == 1
    post(client, "/pathways", referral_json(1) | {"referred_on": "2026-07-01"}, 201)
    assert len(client.get(f"/pathways/{pathway}/episodes").json()) == 2


def test_a_person_born_more_than_120_years_ago_is_a_typing_error(client: TestClient) -> None:
    body = referral_json(3)
    body["person"]["birth_date"] = "1800-01-01"
    answer = client.post("/pathways", json=body)
    assert answer.status_code == 422, answer.text
    assert "120 ans" in answer.text


# -- 2. one identity ------------------------------------------------------------------------

def test_a_second_referral_with_other_traits_changes_nothing_and_says_which_differ(
        client: TestClient) -> None:
    pathway = referred(client, 1)
    person = view(client, pathway)["person"]
    post(client, f"/pathways/{pathway}/refusal", {
        "decided_on": "2026-01-20", "reason_code": "other", "reason": "x",
        "orientation": {"to": "CCAS fictif", "kind": "service"}})
    other = referral_json(1) | {"referred_on": "2026-02-01"}
    other["person"] = {**other["person"], "family_name": "Autrenom", "given_names": "Paul",
                       "ins": " ".join(other["person"]["ins"])}  # the same INS, with spaces
    answer = client.post("/pathways", json=other)
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "identity.mismatch"
    assert error["details"]["differing_traits"] == ["family_name", "given_names"]
    assert view(client, pathway)["person"] == person
    assert len(client.get(f"/pathways/{pathway}/episodes").json()) == 1

    # A referring professional is answered as for anyone (finding 9): the coordination has
    # the traits that differ to check.
    stranger = bearer("dr-ailleurs", "referrer", None)  # may not read the file
    told = client.post("/pathways", json=other, headers=stranger)
    assert told.status_code == 202, told.text
    assert view(client, pathway)["person"] == person
    (repeat,) = client.get(f"/pathways/{pathway}/repeat-referrals").json()
    assert repeat["referral"]["reason"] == "identity_differs"
    assert repeat["referral"]["differing_traits"] == ["family_name", "given_names"]

    same = referral_json(1) | {"referred_on": "2026-02-01"}
    same["person"] = {**same["person"], "family_name": same["person"]["family_name"].upper()}
    post(client, "/pathways", same, 201)  # case and spacing aside, the same person


def test_a_coordinator_corrects_an_identity_and_the_journal_shows_it(client: TestClient) -> None:
    pathway = referred(client, 1)
    correction = {"family_name": "Corrigé", "given_names": "Jeanne", "birth_date": "1941-02-03",
                  "sex": "F", "reason": "Nom de naissance vérifié sur la carte Vitale"}
    forbidden = client.post(f"/pathways/{pathway}/identity", json=correction, headers=MANAGER)
    assert forbidden.status_code in (403, 404)
    post(client, f"/pathways/{pathway}/identity", correction)
    person = view(client, pathway)["person"]
    assert (person["family_name"], person["given_names"], person["birth_date"]) == (
        "Corrigé", "Jeanne", "1941-02-03")
    last = journal(client, pathway)[-1]
    assert last["type"] == "IdentityCorrected"
    assert last["data"]["reason"] == correction["reason"]
    assert last["actor"]["id"] == "coord-1"


# -- 3. who acts is who signed in -----------------------------------------------------------

def test_the_referrer_is_the_signed_in_professional(client: TestClient) -> None:
    mine = referral_json(4)
    created = post(client, "/pathways", mine, 202, headers=GP)
    pathway = pathway_of(client, mine["person"]["ins"])
    referral = journal(client, pathway)[0]
    assert referral["data"]["referrer"]["id"] == "gp-1"
    assert referral["data"]["referrer"]["name"] == "Utilisateur gp-1"  # from the token
    assert referral["data"]["referral_id"] == created["referral_id"]
    assert client.get(f"/pathways/{pathway}/referral", headers=GP).status_code == 200
    assert client.get(f"/referrals/{created['referral_id']}", headers=GP).status_code == 200

    in_another_name = referral_json(5)
    in_another_name["referrer"] |= {"id": "dr-quelquun", "name": "Dr Quelqu'un"}
    answer = client.post("/pathways", json=in_another_name, headers=GP)
    assert answer.status_code == 403, answer.text


def test_a_plan_is_validated_by_the_gp_or_recorded_as_received(client: TestClient) -> None:
    pathway = followed(client)
    post(client, f"/pathways/{pathway}/care-circle", dump(f.member("gp-1")))
    for revision in (1, 2):
        post(client, f"/pathways/{pathway}/plan-revisions", dump(f.plan(revision)),
             headers=MANAGER)
    rule(client, f"/pathways/{pathway}/plan-revisions/1/validation",
         {"validated_on": "2026-02-03"}, "plan.validation_means_required")
    half = client.post(f"/pathways/{pathway}/plan-revisions/1/validation",
                       json={"validated_on": "2026-02-03", "received_via": "courrier"},
                       headers=MANAGER)
    assert half.status_code == 422
    post(client, f"/pathways/{pathway}/plan-revisions/1/validation",
         {"validated_on": "2026-02-03", "received_via": "telephone", "received_on": "2026-02-04"},
         headers=MANAGER)
    post(client, f"/pathways/{pathway}/plan-revisions/2/validation",
         {"validated_on": "2026-02-05"}, headers=GP)

    first, second = client.get(f"/pathways/{pathway}/plan-revisions").json()
    assert {k: first[k] for k in ("status", "validated_on", "validated_by", "validator_id",
                                  "means", "received_on", "recorded_by")} == {
        "status": "validated", "validated_on": "2026-02-03", "validated_by": "Dr GP-1 Fictif",
        "validator_id": "gp-1", "means": "telephone", "received_on": "2026-02-04",
        "recorded_by": "gc-1"}
    assert (second["status"], second["means"], second["recorded_by"]) == (
        "validated", "signed_in", None)
    validations = [e for e in journal(client, pathway) if e["type"] == "PlanValidated"]
    assert [e["actor"]["id"] for e in validations] == ["gc-1", "gp-1"]


def test_revisions_awaiting_validation_say_so(client: TestClient) -> None:
    pathway = followed(client)
    post(client, f"/pathways/{pathway}/plan-revisions", dump(f.plan(1)), headers=MANAGER)
    (revision,) = client.get(f"/pathways/{pathway}/plan-revisions").json()
    assert (revision["status"], revision["validated_on"]) == ("awaiting_validation", None)


# -- 4. the national criteria count ----------------------------------------------------------

def test_admitting_against_a_national_criterion_needs_the_commissions_justification(
        client: TestClient) -> None:
    body = referral_json(6)
    body["criteria"]["c2_help_insufficient"]["met"] = False
    body["criteria"]["c3_no_resource_person"]["met"] = False
    pathway = post(client, "/pathways", body, 201)["pathway_id"]
    assert view(client, pathway)["criteria_not_met"] == ["c2_help_insufficient",
                                                          "c3_no_resource_person"]
    awaiting = client.get("/caseload/awaiting-decision").json()
    flagged = [p for p in awaiting if p["pathway_id"] == pathway]
    assert flagged[0]["criteria_not_met"] == ["c2_help_insufficient", "c3_no_resource_person"]

    error = rule_error(client, f"/pathways/{pathway}/admission", {"decided_on": "2026-01-20"})
    assert error["code"] == "criteria.not_met"
    assert error["details"]["criteria_not_met"] == ["c2_help_insufficient",
                                                    "c3_no_resource_person"]
    justification = "Aidant épuisé : la commission admet malgré l'entourage présent."
    post(client, f"/pathways/{pathway}/admission",
         {"decided_on": "2026-01-20", "criteria_override": {"justification": justification}})
    decision = next(e for e in journal(client, pathway) if e["type"] == "Admitted")
    assert decision["data"]["criteria_override"] == justification
    assert view(client, pathway)["criteria_override"] == justification


def rule_error(client: TestClient, path: str, body: Any) -> Any:
    pathway = path.split("/")[2]
    before = facts(client, pathway)
    error = post(client, path, body, 409)["error"]
    assert facts(client, pathway) == before
    return error


# -- 8. reads say what they cannot do; territories are real ---------------------------------

def test_a_version_beyond_the_journal_is_not_found(client: TestClient) -> None:
    pathway = followed(client)
    current = view(client, pathway)["version"]
    assert client.get(f"/pathways/{pathway}", params={"version": current}).status_code == 200
    beyond = client.get(f"/pathways/{pathway}", params={"version": current + 1})
    assert beyond.status_code == 404
    assert beyond.json()["error"]["code"] == "version.not_found"
    both = client.get(f"/pathways/{pathway}",
                      params={"version": 1, "as_of": "2030-01-01T00:00:00Z"})
    assert both.status_code == 422


def test_a_dysfunction_belongs_to_the_pathways_territory(client: TestClient) -> None:
    pathway = followed(client)
    implausible(client, f"/pathways/{pathway}/dysfunctions",
                dump(f.dysfunction()) | {"territory": "ailleurs"}, "territory.mismatch", 422)
    body = dump(f.dysfunction())
    del body["territory"]
    post(client, f"/pathways/{pathway}/dysfunctions", body)
    reported = [e for e in journal(client, pathway) if e["type"] == "DysfunctionReported"]
    assert reported[-1]["data"]["territory"] == f.TERRITORY


def test_a_referral_to_an_unknown_territory_is_refused(client: TestClient) -> None:
    body = referral_json(7) | {"territory": "dac-inexistant"}
    coordinator_elsewhere = bearer("coord-x", "referrer", None)
    answer = client.post("/pathways", json=body, headers=coordinator_elsewhere)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "territory.unknown"

