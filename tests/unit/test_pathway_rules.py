"""The Pathway aggregate's ordering rules, on the aggregate alone (no store)."""

import random
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.errors import RuleBrokenError
from shared.domain.events import PathwayEvent
from shared.domain.pathway import Pathway
from shared.domain.records import Status
from shared.events import Actor, AdmissionRefused

META = Meta(actor=Actor(id="coord-1", role="coordinator"))


def referred() -> Pathway:
    return Pathway.open(f.referral(random.Random(1)), META)


def admitted() -> Pathway:
    pathway = referred()
    pathway.admit(f.admission(), META)
    pathway.assign(f.assignment(), META)
    return pathway


def refusal() -> AdmissionRefused:
    return AdmissionRefused(
        decided_on=f.admission().decided_on, reason_code="criteria_not_met",
        reason="Critère 3 non rempli", orientation={"to": "CCAS fictif", "kind": "service"},
    )


def replay(pathway: Pathway) -> Pathway:
    rebuilt = None
    for event in pathway.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, Pathway)
    return rebuilt


def broken(code: str, command: Callable[[], None]) -> None:
    with pytest.raises(RuleBrokenError) as caught:
        command()
    assert caught.value.code == code
    assert caught.value.message  # a French sentence for the professional


def test_a_referral_opens_an_episode_awaiting_decision() -> None:
    pathway = referred()
    assert (pathway.status, pathway.episode, pathway.version) == (Status.AWAITING_DECISION, 1, 1)


def test_admission_assigns_a_case_manager() -> None:
    pathway = admitted()
    assert pathway.status is Status.ACTIVE
    assert pathway.case_manager_id == "gc-1"
    assert [type(e).__name__ for e in pathway.collect_events()] == [
        "PathwayOpened", "Admitted", "CaseManagerAssigned",
    ]


def test_decision_is_final_for_the_episode() -> None:
    pathway = admitted()
    broken("decision.already_made", lambda: pathway.admit(f.admission(), META))
    refused = referred()
    refused.refuse(refusal(), META)
    broken("episode.refused", lambda: refused.admit(f.admission(), META))


@pytest.mark.parametrize(
    "command",
    [
        lambda p: p.evaluate(f.evaluation(), META),
        lambda p: p.revise_plan(f.plan(), META),
        lambda p: p.hospitalise(f.stay(), META),
        lambda p: p.close(f.closure(), META),
    ],
)
def test_follow_up_needs_an_admitted_person(command: Callable[[Pathway], None]) -> None:
    pathway = referred()
    broken("pathway.not_admitted", lambda: command(pathway))
    assert pathway.version == 1


def test_never_two_hospital_stays_open_at_once() -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(), META)
    broken("stay.already_open", lambda: pathway.hospitalise(f.stay(), META))


def test_discharge_needs_an_open_stay_and_a_later_date() -> None:
    pathway = admitted()
    broken("stay.not_open", lambda: pathway.discharge(f.discharge(), META))
    stay = f.stay()
    pathway.hospitalise(stay, META)
    early = f.discharge(stay.admitted_at - timedelta(hours=1))
    broken("date.out_of_order", lambda: pathway.discharge(early, META))
    pathway.discharge(f.discharge(), META)
    assert pathway.open_stay is None


def test_hospital_events_occur_at_their_real_dates_even_when_recorded_late() -> None:
    pathway = admitted()
    stay = f.stay()
    pathway.hospitalise(stay, META)
    event = pathway.collect_events()[-1]
    assert isinstance(event, PathwayEvent)
    assert event.occurred_at == stay.admitted_at
    assert event.timestamp > event.occurred_at


def test_plan_revisions_are_numbered_in_sequence() -> None:
    pathway = admitted()
    broken("plan.revision_out_of_sequence", lambda: pathway.revise_plan(f.plan(2), META))
    pathway.revise_plan(f.plan(1), META)
    pathway.revise_plan(f.plan(2), META)
    assert pathway.plan_revision == 2


def test_a_closed_episode_accepts_no_more_events() -> None:
    pathway = admitted()
    pathway.close(f.closure(), META)
    broken("episode.closed", lambda: pathway.evaluate(f.evaluation(), META))
    broken("episode.closed", lambda: pathway.hospitalise(f.stay(), META))


def test_a_new_referral_after_closure_opens_the_next_episode() -> None:
    pathway = admitted()
    broken("pathway.already_open", lambda: pathway.refer(f.referral(random.Random(1)), META))
    pathway.close(f.closure(), META)
    pathway.refer(f.referral(random.Random(1), referred_on=date(2026, 7, 1)), META)
    assert (pathway.status, pathway.episode, pathway.case_manager_id) == (
        Status.AWAITING_DECISION, 2, None,
    )


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(), META)
    pathway.discharge(f.discharge(), META)
    pathway.revise_plan(f.plan(), META)
    state = {k: v for k, v in vars(pathway).items() if k != "_pending_events"}
    rebuilt = replay(pathway)
    assert {k: v for k, v in vars(rebuilt).items() if k != "_pending_events"} == state
