"""Random sequences of valid and invalid commands never leave a stream that breaks a rule,
and replaying a stream rebuilds the same state."""

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.errors import ImplausibleInputError, RuleBrokenError
from shared.domain.events import PathwayEvent
from shared.domain.pathway import Pathway
from shared.domain.records import ReceivedValidation
from shared.events import Actor
from shared.events.values import CareRole

META = Meta(actor=Actor(id="gc-1", role="case_manager"))
START = datetime(2026, 1, 1, 8, tzinfo=UTC)

Command = Callable[[Pathway], object]


def at(day: int) -> datetime:
    return START + timedelta(days=day)


def refusal() -> ev.AdmissionRefused:
    return ev.AdmissionRefused(decided_on=date(2026, 1, 2), reason_code="criteria_not_met",
                               reason="x", orientation={"to": "CCAS fictif", "kind": "service"})


days = st.integers(min_value=0, max_value=60)
members: st.SearchStrategy[tuple[str, CareRole]] = st.sampled_from(
    [("gp-1", "attending_gp"), ("gp-2", "attending_gp"), ("nurse-1", "nurse"), ("saad-1", "saad")])
keys = st.sampled_from(["R1:a", "R1:b", "R3:a"])

commands: st.SearchStrategy[Command] = st.one_of(
    st.just(lambda p: p.refer(f.referral(random.Random(1)), META)),
    st.just(lambda p: p.admit(f.admission(), META)),
    st.just(lambda p: p.refuse(refusal(), META)),
    st.sampled_from(["gc-1", "gc-2"]).map(lambda m: lambda p: p.assign(f.assignment(m), META)),
    st.just(lambda p: p.evaluate(f.evaluation(), META)),
    st.integers(1, 3).map(lambda r: lambda p: p.revise_plan(f.plan(r), META)),
    st.integers(1, 3).map(lambda r: lambda p: p.validate_plan(
        r, date(2026, 2, 1), META, ReceivedValidation("courrier", date(2026, 2, 3)))),
    st.tuples(members, days).map(lambda a: lambda p: p.join(
        f.member(*a[0]).model_copy(update={"joined_on": at(a[1]).date()}), META)),
    st.tuples(members, days).map(lambda a: lambda p: p.leave(
        ev.MemberLeft(member_id=a[0][0], left_on=at(a[1]).date()), META)),
    days.map(lambda d: lambda p: p.hospitalise(f.stay(at(d)), META)),
    days.map(lambda d: lambda p: p.transfer_stay(
        ev.StayTransferred(establishment="SSR", ward="SSR", transferred_at=at(d)), META)),
    days.map(lambda d: lambda p: p.discharge(f.discharge(at(d)), META)),
    st.just(lambda p: p.note(f.note(), META)),
    st.just(lambda p: p.close(f.closure(), META)),
    keys.map(lambda k: lambda p: p.raise_alert(f.alert(key=k), META, {k})),
    keys.map(lambda k: lambda p: p.acknowledge_alert(f.alert(key=k).alert_id, "", META)),
    keys.map(lambda k: lambda p: p.resolve_alert(f.alert(key=k).alert_id, "", META)),
)


def state(pathway: Pathway) -> dict[str, Any]:
    return {k: v for k, v in vars(pathway).items() if k not in ("_pending_events", "_modified_on")}


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=40))
def test_random_commands_keep_the_rules(sequence: list[Command]) -> None:
    pathway = Pathway.open(f.referral(random.Random(1)), META)
    for command in sequence:
        version = pathway.version
        try:
            command(pathway)
        except (RuleBrokenError, ImplausibleInputError):
            assert pathway.version == version  # a refused command appends nothing
    events = pathway.collect_events()
    assert_stream_keeps_the_rules([e for e in events if isinstance(e, PathwayEvent)])

    rebuilt: Any = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert state(rebuilt) == state(pathway)


def assert_stream_keeps_the_rules(events: list[PathwayEvent]) -> None:
    status, stay_open, revision = "none", False, 0
    circle: dict[str, str] = {}
    fired: set[str] = set()
    for event in events:
        payload = event.data
        if isinstance(payload, ev.Referred):
            assert status in ("none", "refused", "closed"), "referral while an episode is open"
            status, stay_open, revision, circle = "awaiting", False, 0, {}
            continue
        assert status not in ("refused", "closed"), f"{payload.type_name()} after the end"
        match payload:
            case ev.Admitted() | ev.AdmissionRefused():
                assert status == "awaiting"
                status = "active" if isinstance(payload, ev.Admitted) else "refused"
            case ev.Hospitalised():
                assert status == "active" and not stay_open
                stay_open = True
            case ev.Discharged() | ev.StayTransferred():
                assert stay_open
                stay_open = not isinstance(payload, ev.Discharged)
            case ev.PlanRevised():
                assert payload.revision == revision + 1
                revision = payload.revision
            case ev.MemberJoined():
                assert payload.member.member_id not in circle
                if payload.member.role == "attending_gp":
                    assert "attending_gp" not in circle.values(), "two médecins traitants"
                circle[payload.member.member_id] = payload.member.role
            case ev.MemberLeft():
                circle.pop(payload.member_id)
            case ev.AlertRaised():
                assert payload.dedup_key not in fired, "an alert fired twice"
                fired.add(payload.dedup_key)
            case ev.Closed():
                assert status == "active"
                status, stay_open = "closed", False
            case _:
                assert status == "active" or isinstance(payload, ev.AlertAcknowledged
                                                        | ev.AlertResolved)
