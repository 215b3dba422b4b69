"""The analytics stream never carries a named person, and cannot be joined back to one."""

import json
import random
import re

import pytest

from shared import fictitious as f
from shared.events.payloads import PAYLOAD_TYPES
from shared.events.pseudonymise import ALLOWED, pseudonymise, to_json
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


def test_dates_are_coarsened() -> None:
    record = pseudonymise(envelope_for(f.stay()), KEY)
    assert record is not None
    assert record["data"]["admitted_at"] == "2026-03"
    assert re.fullmatch(r"\d{4}-\d{2}", record["occurred_month"])
    assert re.fullmatch(r"\d{4}-W\d{2}", record["recorded_week"])


def test_referral_keeps_what_analysts_count() -> None:
    referral = f.referral(random.Random(4))
    record = pseudonymise(envelope_for(referral), KEY)
    assert record is not None
    data = record["data"]
    age = referral.person.age_on(referral.referred_on)
    assert data["person"] == {"sex": referral.person.sex,
                              "age_band": f"{age // 5 * 5}-{age // 5 * 5 + 4}"}
    assert data["criteria"]["c1a_functional_autonomy"] == {"met": True}
    assert data["territory"] == referral.territory
    assert "profession" not in json.dumps(data)


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
