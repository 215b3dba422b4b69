"""The demo territory on the in-memory store: a story that holds together and is fictitious."""

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from parcours.demo import DYSFUNCTIONS, FAMILY_NAMES, DemoSummary, is_empty, load_demo
from shared.domain.commands import Meta
from shared.domain.dates import DEFAULT_TIME_ZONE
from shared.events import Actor, EventEnvelope
from shared.journal.application import Journal
from shared.journal.store import read_log

TODAY = date(2026, 11, 22)
MIDNIGHT = datetime(2026, 11, 22, tzinfo=UTC)

DATED = {  # the payload field that says when the fact happened
    "Referred": "referred_on", "Admitted": "decided_on", "AdmissionRefused": "decided_on",
    "Evaluated": "evaluated_on", "MemberJoined": "joined_on", "MemberLeft": "left_on",
    "PlanValidated": "validated_on", "Hospitalised": "admitted_at",
    "StayTransferred": "transferred_at", "Discharged": "discharged_at",
    "FollowUpNoted": "contact_on", "Closed": "closed_on", "Waitlisted": "since",
}


Loaded = tuple[DemoSummary, list[EventEnvelope], list[int]]


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    journal = Journal()  # the library's in-memory store: no I/O
    progress: list[int] = []
    summary = load_demo(journal, today=TODAY, progress=lambda done, total: progress.append(
        done * 1000 // total))
    events = [e for _, e in read_log(journal, 1, 1_000_000) if e is not None]
    return summary, events, progress


def by_pathway(events: list[EventEnvelope]) -> dict[str, list[EventEnvelope]]:
    streams: dict[str, list[EventEnvelope]] = defaultdict(list)
    for event in events:
        streams[str(event.pathway_id)].append(event)
    return streams


def day_of(event: EventEnvelope) -> date:
    value = event.data[DATED[event.type]]
    return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)


def test_every_fact_is_dated_in_order_and_before_today(loaded: Loaded) -> None:
    _, events, _ = loaded
    for stream in by_pathway(events).values():
        # A fact given as a day happened at its start: compare days, not moments.
        days_in_paris = [e.occurred_at.astimezone(DEFAULT_TIME_ZONE).date() for e in stream]
        assert days_in_paris == sorted(days_in_paris), stream[0].pathway_id
        assert max(e.occurred_at for e in stream) < MIDNIGHT
        days = [day_of(e) for e in stream if e.type in DATED]
        assert days == sorted(days)
        for event in stream:
            if event.type in DATED:
                assert day_of(event) == event.occurred_at.astimezone(DEFAULT_TIME_ZONE).date()


def test_a_hospital_stay_happens_when_its_payload_says(loaded: Loaded) -> None:
    _, events, _ = loaded
    stays = [e for e in events if e.type == "Hospitalised"]
    assert stays
    for stay in stays:
        assert stay.occurred_at == datetime.fromisoformat(stay.data["admitted_at"])


def test_the_story_shows_the_whole_practice(loaded: Loaded) -> None:
    _, events, _ = loaded
    seen = {e.type for e in events}
    assert seen >= {"Referred", "Admitted", "AdmissionRefused", "CaseManagerAssigned",
                    "Waitlisted", "Evaluated", "PlanRevised", "PlanValidated", "MemberJoined",
                    "MemberLeft", "Hospitalised", "StayTransferred", "Discharged",
                    "FollowUpNoted", "DysfunctionReported", "Closed"}

    def values(type_name: str, field: str) -> set[Any]:
        return {e.data[field] for e in events if e.type == type_name}

    assert values("Evaluated", "kind") >= {"initial", "periodic", "post_discharge"}
    assert max(values("PlanRevised", "revision")) >= 3
    assert values("Hospitalised", "kind") == {"emergency", "planned"}
    assert values("Discharged", "destination") >= {"home", "rehabilitation", "ehpad", "death"}
    assert values("Discharged", "discharge_letter_received") == {True, False}
    assert values("AdmissionRefused", "reason_code") >= {"criteria_not_met", "person_declined"}
    assert values("CaseManagerAssigned", "reason") >= {"admission", "place libérée"}
    assert any(r.startswith("Rééquilibrage") for r in values("CaseManagerAssigned", "reason"))
    roles = {e.data["member"]["role"] for e in events if e.type == "MemberJoined"}
    assert roles >= {"attending_gp", "saad", "ssiad", "family_carer", "nurse"}


def test_closures_name_each_reason_and_a_stabilisation_its_relay(loaded: Loaded) -> None:
    _, events, _ = loaded
    closures = [e.data for e in events if e.type == "Closed"]
    assert {c["reason_code"] for c in closures} == {
        "death", "establishment", "stabilisation", "moved_out", "refused_by_person"}
    assert all(c["handed_over_to"] for c in closures if c["reason_code"] == "stabilisation")


def test_a_dozen_dysfunctions_across_the_four_categories(loaded: Loaded) -> None:
    _, events, _ = loaded
    reports = [e.data for e in events if e.type == "DysfunctionReported"]
    assert len(reports) == len(DYSFUNCTIONS) == 12
    assert {r["category"] for r in reports} == {
        "missing_resource", "poor_articulation", "unknown_services", "other"}


def test_each_fact_has_the_actor_who_did_it(loaded: Loaded) -> None:
    _, events, _ = loaded
    roles: dict[str, set[str]] = defaultdict(set)
    for event in events:
        roles[event.type].add(event.actor.role)
    assert roles["Referred"] == {"referrer"}
    assert roles["Admitted"] == roles["AdmissionRefused"] == {"coordinator"}
    assert roles["Evaluated"] == roles["FollowUpNoted"] == {"case_manager"}
    managers = {e.actor.id for e in events if e.actor.role == "case_manager"}
    assert managers == {"gc-anne", "gc-bruno", "gc-claire", "gc-david"}


def test_nobody_real_is_named(loaded: Loaded) -> None:
    _, events, _ = loaded
    text = json.dumps([e.data for e in events], ensure_ascii=False)
    addresses = set(re.findall(r"[\w.+-]+@[\w.-]+", text))
    assert addresses and all(a.endswith("@exemple.invalid") for a in addresses)
    persons = [e.data["person"] for e in events if e.type == "Referred"]
    assert all(p["ins"][5:7] == "99" for p in persons)  # the fictitious department
    assert all(p["family_name"] in FAMILY_NAMES for p in persons)
    assert all(p.get("rpps") is None for p in [e.data["referrer"] for e in events
                                               if e.type == "Referred"])


def test_the_summary_counts_what_the_journal_holds(loaded: Loaded) -> None:
    summary, events, _ = loaded
    assert summary.events == len(events)
    assert summary.referrals == sum(1 for e in events if e.type == "Referred")
    assert summary.refused == sum(1 for e in events if e.type == "AdmissionRefused")
    assert summary.waited == sum(1 for e in events if e.type == "Waitlisted")
    assert summary.pathways == len(by_pathway(events))
    assert summary.active + summary.closed + summary.awaiting_decision <= summary.pathways


def test_progress_goes_forward_to_the_end(loaded: Loaded) -> None:
    _, _, progress = loaded
    assert progress == sorted(progress)
    assert progress[-1] == 1000
    assert len(progress) > 100  # a bar that moves, not a jump at the end


def test_a_journal_with_anything_stored_is_not_empty() -> None:
    journal = Journal()
    assert is_empty(journal)
    journal.register_manager("dac-autre", "gc-1", "Gestionnaire Fictif", 35,
                             Meta(actor=Actor(id="coord-1", role="coordinator")))
    assert not is_empty(journal)  # even without a single pathway
