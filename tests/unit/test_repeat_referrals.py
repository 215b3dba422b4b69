"""A referring professional's referral for a person the pathway follows (issue 19, finding
9): recorded as a repeat referral for the coordination, changing nothing of the episode; and
what its sender may know of it. On the aggregate alone (no store)."""

import random
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from shared import events as ev
from shared import fictitious as f
from shared.domain import access
from shared.domain.access import PathwayFacts
from shared.domain.commands import Delays, Meta, Policy
from shared.domain.errors import ImplausibleInputError, RuleBrokenError
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.domain.records import Status
from shared.domain.ruptures import deadlines

NOW = datetime(2026, 9, 1, 10, tzinfo=UTC)
COORDINATOR = Meta(actor=ev.Actor(id="coord-1", role="coordinator"), now=NOW)
SENDER = Meta(actor=ev.Actor(id="dr-autre", role="referrer"), now=NOW)
OTHER_GP = f.professional(random.Random(99)).model_copy(update={"id": "dr-autre"})


def referral(referred_on: date = date(2026, 8, 20), **person: object) -> ev.Referred:
    """The person of seed 1 again, sent by another GP, with an id for its sender."""
    first = f.referral(random.Random(1), referred_on=referred_on)
    return first.model_copy(update={
        "referral_id": uuid4(), "referrer": OTHER_GP,
        "person": first.person.model_copy(update=person)})


def followed() -> Pathway:
    pathway = Pathway.open(f.referral(random.Random(1)).model_copy(
        update={"referral_id": uuid4()}), COORDINATOR)
    pathway.admit(f.admission(), COORDINATOR)
    pathway.assign(f.assignment(), COORDINATOR)
    pathway.join(f.member(), COORDINATOR)
    return pathway


def closed() -> Pathway:
    pathway = followed()
    pathway.close(f.closure(), COORDINATOR)
    return pathway


def snapshot(pathway: Pathway) -> tuple[object, ...]:
    return (pathway.status, [vars(e).copy() | {"last_version": 0} for e in pathway.episodes],
            pathway.last_fact_event_id, pathway.state.model_dump(), dict(pathway.alerts),
            deadlines(pathway.state, Delays(), Policy()))


def replay(pathway: Pathway) -> Pathway:
    rebuilt = None
    for event in pathway.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert isinstance(rebuilt, Pathway)
    return rebuilt


def test_a_person_already_followed_is_a_repeat_referral_that_changes_nothing() -> None:
    pathway = followed()
    before = snapshot(pathway)
    sent = referral()
    assert pathway.receive_referral(sent, SENDER) is False
    assert snapshot(pathway) == before  # episode, dates, follow-up, alerts, deadlines
    (repeat,) = pathway.open_repeat_referrals()
    assert repeat.received.reason == "already_followed"
    assert repeat.received.referral_id == sent.referral_id
    assert repeat.received.differing_traits == []
    assert repeat.received.referrer.id == "dr-autre"
    assert pathway.episode == 1 and pathway.status is Status.ACTIVE


def test_other_traits_for_a_known_ins_are_to_check_even_after_closure() -> None:
    for pathway in (followed(), closed()):
        status = pathway.status
        sent = referral(family_name="Autrenom", birth_date=date(1930, 5, 5))
        assert pathway.receive_referral(sent, SENDER) is False
        (repeat,) = pathway.open_repeat_referrals()
        assert repeat.received.reason == "identity_differs"
        assert repeat.received.differing_traits == ["family_name", "birth_date"]
        assert repeat.received.identity.family_name == "Autrenom"
        assert (pathway.episode, pathway.status) == (1, status)
        assert pathway.person is not None and pathway.person.family_name != "Autrenom"


def test_case_and_accents_are_not_other_traits() -> None:
    pathway = followed()
    assert pathway.person is not None
    pathway.receive_referral(referral(family_name=pathway.person.family_name.upper()), SENDER)
    (repeat,) = pathway.open_repeat_referrals()
    assert repeat.received.reason == "already_followed"


def test_after_closure_the_same_person_opens_the_next_episode() -> None:
    pathway = closed()
    sent = referral()
    assert pathway.receive_referral(sent, SENDER) is True
    assert (pathway.episode, pathway.status) == (2, Status.AWAITING_DECISION)
    assert pathway.episodes[-1].referral_id == sent.referral_id
    assert pathway.open_repeat_referrals() == []


def test_a_referral_dated_before_the_last_episode_ended_is_a_repeat() -> None:
    pathway = closed()
    ended = pathway.episodes[-1].ended_on
    assert ended is not None
    # Not the date error a coordinator gets: it would tell the sender when the episode ended.
    assert pathway.receive_referral(referral(referred_on=ended - timedelta(days=1)),
                                    SENDER) is False
    assert pathway.open_repeat_referrals()[0].received.reason == "already_followed"
    assert pathway.episode == 1


def test_a_date_in_the_future_is_refused_whatever_the_person() -> None:
    for pathway in (followed(), closed()):
        with pytest.raises(ImplausibleInputError) as refused:
            pathway.receive_referral(referral(referred_on=date(2026, 12, 1)), SENDER)
        assert refused.value.code == "date.in_future"


def test_a_repeat_referral_is_resolved_once_whatever_the_status() -> None:
    pathway = followed()
    sent = referral()
    pathway.receive_referral(sent, SENDER)
    pathway.close(f.closure(), COORDINATOR)
    assert sent.referral_id is not None
    with pytest.raises(RuleBrokenError) as unknown:
        pathway.resolve_repeat_referral(uuid4(), "joined", "", COORDINATOR)
    assert unknown.value.code == "repeat_referral.unknown"
    pathway.resolve_repeat_referral(sent.referral_id, "declined", "Déjà suivie", COORDINATOR)
    with pytest.raises(RuleBrokenError) as twice:
        pathway.resolve_repeat_referral(sent.referral_id, "joined", "", COORDINATOR)
    assert twice.value.code == "repeat_referral.already_resolved"
    resolved = pathway.repeat_referrals[sent.referral_id]
    assert (resolved.outcome, resolved.resolved_by) == ("declined", "coord-1")
    assert pathway.open_repeat_referrals() == []


def test_the_receipt_tells_its_sender_of_their_referral_only() -> None:
    pathway = closed()
    first = pathway.episodes[0].referral_id
    assert first is not None
    repeat, again = referral(family_name="Autrenom"), referral()
    pathway.receive_referral(repeat, SENDER)
    pathway.receive_referral(again, SENDER)
    assert repeat.referral_id is not None and again.referral_id is not None
    assert pathway.receipt(uuid4()) is None

    new_episode = pathway.receipt(again.referral_id)
    assert new_episode is not None
    assert (new_episode.sender_id, new_episode.status, new_episode.decided_on,
            new_episode.episode) == ("dr-autre", "received", None, 2)
    pathway.admit(f.admission(date(2026, 8, 25)), COORDINATOR)
    decided = pathway.receipt(again.referral_id)
    assert decided is not None and (decided.status, decided.decided_on) == (
        "admitted", date(2026, 8, 25))

    receipt = pathway.receipt(repeat.referral_id)
    assert receipt is not None and (receipt.status, receipt.episode) == ("received", None)
    pathway.resolve_repeat_referral(repeat.referral_id, "joined", "", COORDINATOR)
    receipt = pathway.receipt(repeat.referral_id)
    assert receipt is not None and (receipt.status, receipt.decided_on) == (
        "joined", NOW.date())
    earlier = pathway.receipt(first)
    assert earlier is not None and earlier.sender_id != "dr-autre"


def test_the_sender_of_a_repeat_does_not_read_the_decision() -> None:
    pathway = followed()
    pathway.receive_referral(referral(), SENDER)
    facts = PathwayFacts.of(pathway)
    sender = Principal("dr-autre", "Dr Autre", "referrer", None)
    assert "dr-autre" not in facts.referrer_ids
    assert not access.reads_decision(sender, facts, NOW.date())


def test_replaying_repeat_referrals_rebuilds_the_same_state() -> None:
    pathway = followed()
    sent = referral(sex="M" if pathway.person and pathway.person.sex == "F" else "F")
    pathway.receive_referral(sent, SENDER)
    pathway.resolve_repeat_referral(UUID(str(sent.referral_id)), "declined", "", COORDINATOR)
    state = {k: v for k, v in vars(pathway).items() if k != "_pending_events"}
    rebuilt = replay(pathway)
    assert {k: v for k, v in vars(rebuilt).items() if k != "_pending_events"} == state
