"""The exported schemas check what they can (issue 12, item 5): dates and date-times by their
format, versions and positions from 1, the actor's role among the roles, the INS by its
pattern. Checked with a FormatChecker: without one, JSON Schema treats ``format`` as a note."""

import json
import random
from collections.abc import Callable
from typing import Any, get_args

import jsonschema
import pytest

from shared import fictitious
from shared.api.auth import ROLES
from shared.domain import ins
from shared.events import values
from shared.events.schema import schemas
from tests.unit.test_events import PAYLOADS, envelope_for

Instance = dict[str, Any]


def validator(type_name: str) -> jsonschema.Draft202012Validator:
    schema = schemas()[f"{type_name}.v1.schema.json"]
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def referral() -> Instance:
    payload = fictitious.referral(random.Random(7))
    instance: Instance = json.loads(envelope_for(payload).to_json())
    return instance


def test_the_format_checker_knows_dates_and_date_times() -> None:
    # rfc3339-validator (dev dependency) is what lets jsonschema check "date-time".
    checkers = jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers
    assert {"date", "date-time", "uuid"} <= set(checkers)


def test_every_payload_as_published_passes_its_schema() -> None:
    for payload in PAYLOADS:
        validator(payload.type_name()).validate(json.loads(envelope_for(payload).to_json()))


def _set(path: str, value: object) -> Callable[[Instance], None]:
    *parents, last = path.split(".")

    def change(instance: Instance) -> None:
        target = instance
        for part in parents:
            target = target[part]
        target[last] = value
    return change


BROKEN = {
    "occurred_at: yesterday": _set("occurred_at", "yesterday"),
    "recorded_at without a zone or a time": _set("recorded_at", "2026-03-04"),
    "a referral's date that is no date": _set("data.referred_on", "le 3 mars"),
    "a birth date on 30 February": _set("data.person.birth_date", "1940-02-30"),
    "stream_version: -5": _set("stream_version", -5),
    "stream_version: 0": _set("stream_version", 0),
    "global_position: 0": _set("global_position", 0),
    "an unknown role": _set("actor.role", "superuser"),
    "an INS of 14 characters": _set("data.person.ins", "1" * 14),
    "an INS with letters": _set("data.person.ins", "1234567890ABC12"),
    "an INS typed with spaces": _set("data.person.ins", "2 40 05 75 108 123 45"),
    "event_id that is no uuid": _set("event_id", "évènement-1"),
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=BROKEN.keys())
def test_the_schema_refuses(change: Callable[[Instance], None]) -> None:
    instance = referral()
    validator("Referred").validate(instance)  # the same event before the change passes
    change(instance)
    with pytest.raises(jsonschema.ValidationError):
        validator("Referred").validate(instance)


def test_every_exported_schema_refuses_a_version_or_position_below_one() -> None:
    for name, schema in schemas().items():
        properties = schema["properties"]
        assert isinstance(properties, dict)
        assert properties["stream_version"]["minimum"] == 1, name
        position = properties["global_position"]["anyOf"][0]
        assert position["minimum"] == 1, name


def test_the_roles_of_the_contract_cover_every_role_that_signs_in() -> None:
    assert set(ROLES) <= set(get_args(values.ActorRole))


def test_the_ins_pattern_accepts_every_ins_the_domain_stores() -> None:
    # Not stricter than the domain: every valid INS, Corsica's too, once normalised.
    pattern = validator("Referred").schema["$defs"]["Person"]["properties"]["ins"]["pattern"]
    rng = random.Random(3)
    samples = [fictitious.referral(rng).person.ins for _ in range(200)]
    samples += [ins.with_key("1400520" + "123456"), ins.with_key("2400520" + "123456"),
                ins.with_key("14005" + "2A" + "123456"), ins.with_key("24005" + "2B" + "123456")]
    for value in samples:
        stored = values.Person.model_validate(
            {**referral()["data"]["person"], "ins": value}).ins
        assert jsonschema.Draft202012Validator({"type": "string", "pattern": pattern}).is_valid(
            stored), stored
