"""JSON Schema export, so that consumers in any language can check what they receive."""

import json
from pathlib import Path

from shared.events.envelope import EventEnvelope
from shared.events.payloads import PAYLOAD_TYPES


def schemas() -> dict[str, dict[str, object]]:
    """One schema per event type and version: the envelope with its typed ``data``, as it is
    serialised on the topic (dates with their ``format``, versions and positions ≥ 1, the
    actor's role among the roles, the INS with its pattern)."""
    envelope = EventEnvelope.model_json_schema(mode="serialization")
    result: dict[str, dict[str, object]] = {}
    for name, payload in PAYLOAD_TYPES.items():
        version = payload.schema_version
        schema = json.loads(json.dumps(envelope))
        data_schema = payload.model_json_schema(ref_template="#/$defs/{model}",
                                                mode="serialization")
        schema["$defs"] = {**schema.get("$defs", {}), **data_schema.pop("$defs", {})}
        schema["properties"]["data"] = data_schema
        schema["properties"]["type"] = {"const": name, "title": "Type"}
        schema["properties"]["schema_version"] = {"const": version, "title": "Schema Version"}
        schema["title"] = f"{name} v{version}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:parcours:pathway-event:{name}:v{version}"
        result[f"{name}.v{version}.schema.json"] = schema
    return result


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, schema in sorted(schemas().items()):
        path = directory / filename
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written
