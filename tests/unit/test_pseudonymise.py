"""The analytics stream never carries a named person, and cannot be joined back to one."""

import json
import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest

from parcours.demo import load_demo
from services.relay.reader import Encoder, read_batch
from shared import fictitious as f
from shared.events import EventEnvelope
from shared.events.payloads import PAYLOAD_TYPES
from shared.events.pseudonymise import ALLOWED, Analytics, pseudonymise, to_json
from shared.journal.application import Journal
from shared.journal.store import read_log
from tests.unit.test_events import PAYLOADS, envelope_for

KEY = b"test-key-not-a-secret"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE = re.compile(r"[A-Za-z0-9_\-]{1,40}")


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.type_name())
def test_no_identifying_value_survives(payload: object) -> None:
    envelope = envelope_for(payload)  # type: ignore[arg-type]
    record = pseudonymise(envelope, KEY)
    assert record is not None
    out = to_json(record).decode()
    raw = envelope.model_dump(mode="json")
    secrets = {raw["actor"]["id"], str(raw["pathway_id"]), str(raw["event_id"]),
               str(raw["correlation_id"])} | _strings(raw["data"])
    leaked = sorted(s for s in secrets if s and s in out)
    assert leaked == []
    assert not _ISO_DAY.search(out)  # no exact date
    assert "global_position" not in out


def test_every_event_type_of_today_is_listed() -> None:
    assert {(name, cls.schema_version) for name, cls in PAYLOAD_TYPES.items()} == set(ALLOWED)


def test_an_unlisted_type_or_version_or_field_never_leaves() -> None:
    envelope = envelope_for(f.stay())
    assert pseudonymise(envelope.model_copy(update={"schema_version": 2}), KEY) is None
    assert pseudonymise(envelope.model_copy(update={"type": "Nouveau"}), KEY) is None
    added = envelope.model_copy(update={"data": {**envelope.data, "secret": "kind"}})
    record = pseudonymise(added, KEY)
    assert record is not None and "secret" not in record["data"]
    # a listed code field that suddenly carries a sentence is dropped too
    sentence = {**envelope.data, "kind": "Chute dans l'escalier"}
    texted = envelope.model_copy(update={"data": sentence})
    record = pseudonymise(texted, KEY)
    assert record is not None and "kind" not in record["data"]


def test_pseudonyms_are_stable_and_keyed() -> None:
    envelope = envelope_for(f.referral(random.Random(4)))
    once, twice = pseudonymise(envelope, KEY), pseudonymise(envelope, KEY)
    other = pseudonymise(envelope, b"another key")
    assert once is not None and twice is not None and other is not None
    assert once["pathway"] == twice["pathway"] != str(envelope.pathway_id)
    assert once["actor"]["id"] == twice["actor"]["id"]
    assert other["pathway"] != once["pathway"]


def test_dates_go_to_the_period() -> None:
    record = pseudonymise(envelope_for(f.stay()), KEY)
    assert record is not None
    assert record["data"]["admitted_at"] == record["period"] == "2026-Q1"
    # nothing that dates a record more finely, nor orders it among the pathway's other periods
    assert {"occurred_month", "recorded_week", "stream_version"}.isdisjoint(record)
    yearly = Analytics(KEY, period="year").record(envelope_for(f.stay()))
    assert yearly is not None and yearly["data"]["admitted_at"] == yearly["period"] == "2026"


def test_referral_keeps_what_analysts_count_once_k_persons_share_it() -> None:
    analytics = Analytics(KEY, k=3)
    referral = f.referral(random.Random(4))
    records = [analytics.record(envelope_for(referral)) for _ in range(3)]  # three persons
    first, third = records[0], records[2]
    assert first is not None and third is not None
    age = referral.person.age_on(referral.referred_on)
    assert first["data"]["person"] == {} and "territory" not in first["data"]
    assert third["data"]["person"] == {"sex": referral.person.sex,
                                       "age_band": f"{age // 10 * 10}-{age // 10 * 10 + 9}"}
    assert third["data"]["neuro_evolutive_disease"] is False
    assert third["data"]["criteria"]["c1a_functional_autonomy"] == {"met": True}
    assert third["data"]["territory"] == referral.territory
    assert "profession" not in json.dumps(third["data"])


def test_the_same_person_referred_again_counts_once() -> None:
    analytics = Analytics(KEY, k=2)
    envelope = envelope_for(f.referral(random.Random(4)))
    again = envelope.model_copy(update={"event_id": uuid4()})
    analytics.record(envelope)
    record = analytics.record(again)
    assert record is not None and record["data"]["person"] == {}


# -- k-anonymity and periods on a territory like the demo's ----------------------------------

TODAY = date(2026, 11, 22)
K = 5


@pytest.fixture(scope="module")
def demo() -> tuple[Journal, list[EventEnvelope]]:
    journal = Journal()  # the library's in-memory store: no I/O
    load_demo(journal, today=TODAY)
    return journal, [e for _, e in read_log(journal, 1, 1_000_000) if e is not None]


def _age(envelope: EventEnvelope) -> int:
    born = date.fromisoformat(envelope.data["person"]["birth_date"])
    on = date.fromisoformat(envelope.data["referred_on"])
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _in_period(day: date, label: str) -> bool:
    """Whether a day falls in a published period label (month, quarter or year)."""
    if re.fullmatch(r"\d{4}-Q\d", label):
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}" == label
    return day.isoformat().startswith(label)


def _matches(envelope: EventEnvelope, published: dict[str, Any]) -> bool:
    """Whether a person's true traits fall in a referral's published combination; a field
    that is not published matches anyone."""
    person, data = published.get("person", {}), published
    band = person.get("age_band")
    if band is not None:
        low, high = (int(n) for n in band.split("-"))
        if not low <= _age(envelope) <= high:
            return False
    return (person.get("sex", envelope.data["person"]["sex"]) == envelope.data["person"]["sex"]
            and data.get("territory", envelope.data["territory"]) == envelope.data["territory"]
            and data.get("neuro_evolutive_disease", envelope.data["neuro_evolutive_disease"])
            == envelope.data["neuro_evolutive_disease"]
            and _in_period(date.fromisoformat(envelope.data["referred_on"]),
                           data["referred_on"]))


def test_every_published_combination_is_shared_by_k_persons(demo: Any) -> None:
    """k-map on the store: whoever knows a person's territory, sex, age and when they were
    referred finds at least k persons referred so far behind any referral record that shows
    any of these traits; and, once the log is read, behind every referral record."""
    _, events = demo
    analytics = Analytics(KEY, k=K)
    referred: list[EventEnvelope] = []
    published: list[dict[str, Any]] = []
    for envelope in events:
        record = analytics.record(envelope)
        if envelope.type != "Referred":
            continue
        referred.append(envelope)
        assert record is not None
        published.append(record["data"])
        if "territory" in record["data"]:
            persons = {e.pathway_id for e in referred if _matches(e, record["data"])}
            assert len(persons) >= K, record["data"]
        else:  # fewer than k persons so far in the period: it shows that it happened, no more
            assert record["data"]["person"] == {}
            assert "neuro_evolutive_disease" not in record["data"]
    assert len(referred) == 119  # the demo's referrals
    for data in published:
        assert len({e.pathway_id for e in referred if _matches(e, data)}) >= K, data
    # and not by publishing nothing: most referrals still say something of the person
    assert sum(bool(data["person"]) for data in published) > len(referred) // 2


def test_a_pseudonym_holds_within_a_period_and_changes_with_it(demo: Any) -> None:
    _, events = demo
    analytics = Analytics(KEY, k=K)
    seen: dict[Any, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for envelope in events:
        record = analytics.record(envelope)
        if record is not None:
            seen[envelope.pathway_id][record["period"]].add(record["pathway"])
    spanning = [periods for periods in seen.values() if len(periods) > 1]
    assert len(spanning) > 50  # most demo pathways last beyond one quarter
    for periods in seen.values():
        assert all(len(pseudonyms) == 1 for pseudonyms in periods.values())
        every = [p for pseudonyms in periods.values() for p in pseudonyms]
        assert len(set(every)) == len(every)
    january = datetime(2026, 1, 5, tzinfo=UTC)
    stay = envelope_for(f.stay()).model_copy(update={"occurred_at": january})
    assert analytics.pseudonym(stay.pathway_id, "2026-Q1") == \
        Analytics(KEY).record(stay)["pathway"]  # type: ignore[index]


def test_no_keyed_identifier_links_two_periods(demo: Any) -> None:
    """Not the pathway, nor a professional, an alert or a correlation: every hash is keyed
    with its period, so no value seen in one period comes back in another."""
    _, events = demo
    analytics = Analytics(KEY, k=K)
    periods_of: dict[str, set[str]] = defaultdict(set)
    for envelope in events:
        record = analytics.record(envelope)
        if record is not None:
            for value in re.findall(r'"([a-z]-[0-9a-f]{24})"', to_json(record).decode()):
                periods_of[value].add(record["period"])
    assert periods_of and all(len(periods) == 1 for periods in periods_of.values())


@pytest.mark.parametrize("size", [1, 37, 500])
def test_a_relay_restarted_anywhere_publishes_the_same_records(demo: Any, size: int) -> None:
    """The counts come from the log's prefix: batches read by a reader that starts afresh at
    each one (a restarted relay) give the records of one reading from the start."""
    journal, _ = demo
    once = read_batch(journal, Encoder("t", None, ("a", Analytics(KEY, k=K))), 1, 1_000_000)
    records, start = [], 1
    while True:
        if size == 1 and start > 600:
            break  # one entry at a time is slow: a prefix proves it as well
        encoder = Encoder("t", None, ("a", Analytics(KEY, k=K)))  # a new relay each time
        batch = read_batch(journal, encoder, start, size)
        if not batch.entries:
            break
        records += [r for r in batch.records if r[0] == "a"]
        start = batch.last + 1
    expected = [r for r in once.records if r[0] == "a"][:len(records)]
    assert [r[2] for r in records] == [r[2] for r in expected]


def _strings(value: object) -> set[str]:
    """Every identifier, and every text that is not a code."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str) and (k.endswith("id") or not _CODE.fullmatch(v)):
                found.add(v)
            found |= _strings(v)
    elif isinstance(value, list):
        for item in value:
            found |= _strings(item)
    return found
