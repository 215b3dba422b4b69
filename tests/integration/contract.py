"""Every record of a topic checked against the exported JSON Schema of its type and version,
formats included: what a consumer in another language would check (issue 12, item 5)."""

import json
from collections import Counter

import jsonschema

from shared.events.schema import schemas
from shared.runtime.settings import Settings
from tests.integration.kafka_helpers import read_topic


def assert_topic_keeps_the_contract(settings: Settings) -> Counter[str]:
    """Validates the whole topic; returns how many records of each type it checked."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validators = {name: jsonschema.Draft202012Validator(schema, format_checker=checker)
                  for name, schema in schemas().items()}
    checked: Counter[str] = Counter()
    for record in read_topic(settings):
        instance = json.loads(record.value)
        name = f"{instance.get('type')}.v{instance.get('schema_version')}.schema.json"
        assert name in validators, f"offset {record.offset}: no exported schema {name}"
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validators[name].iter_errors(instance)]
        assert not errors, f"partition {record.partition} offset {record.offset}: {errors}"
        checked[instance["type"]] += 1
    return checked
