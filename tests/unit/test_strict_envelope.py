"""Versions and positions count from 1, in the model and in the exported schemas (issue 12,
item 5; the formats, roles and INS pattern are not done yet)."""

import jsonschema
import pytest

from shared.events.schema import schemas


def test_every_exported_schema_refuses_a_version_or_position_below_one() -> None:
    for name, schema in schemas().items():
        properties = schema["properties"]
        assert isinstance(properties, dict)
        assert properties["stream_version"]["minimum"] == 1, name
        position = properties["global_position"]["anyOf"][0]
        assert position["minimum"] == 1, name
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"stream_version": -5}, {"type": "object",
                                 "properties": {"stream_version": properties["stream_version"]}})

