"""The analytics stream never carries a named person, and pseudonyms are stable."""

import random

import pytest

from shared import fictitious as f
from shared.events.pseudonymise import pseudonymise
from tests.unit.test_events import PAYLOADS, envelope_for

KEY = b"test-key-not-a-secret"


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.type_name())
def test_no_identifying_value_survives(payload: object) -> None:
    envelope = envelope_for(payload)  # type: ignore[arg-type]
    out = pseudonymise(envelope, KEY).model_dump_json()
    raw = envelope.model_dump(mode="json")
    secrets = {raw["actor"]["id"], str(raw["pathway_id"])}
    secrets |= _strings(raw["data"], {"ins", "family_name", "given_names", "birth_date",
                                      "name", "contact", "justification", "summary",
                                      "description", "message", "title", "member_id",
                                      "case_manager_id", "professional_id", "id"})
    leaked = sorted(s for s in secrets if s and s in out)
    assert leaked == []


def test_pseudonyms_are_stable_and_keyed() -> None:
    envelope = envelope_for(f.referral(random.Random(4)))
    once, twice = pseudonymise(envelope, KEY), pseudonymise(envelope, KEY)
    assert once.pathway_id == twice.pathway_id != envelope.pathway_id
    assert once.actor.id == twice.actor.id
    assert pseudonymise(envelope, b"another key").pathway_id != once.pathway_id


def test_referral_keeps_what_analysts_count() -> None:
    referral = f.referral(random.Random(4))
    data = pseudonymise(envelope_for(referral), KEY).data
    age = referral.person.age_on(referral.referred_on)
    assert data["person"]["age_band"] == f"{age // 5 * 5}-{age // 5 * 5 + 4}"
    assert data["person"]["sex"] == referral.person.sex
    assert data["criteria"]["c1a_functional_autonomy"] == {"met": True}
    assert data["referrer"]["profession"] == "médecin traitant"
    assert data["territory"] == referral.territory


def _strings(value: object, keys: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys and isinstance(v, str) and len(v) > 3:
                found.add(v)
            found |= _strings(v, keys)
    elif isinstance(value, list):
        for item in value:
            found |= _strings(item, keys)
    return found
