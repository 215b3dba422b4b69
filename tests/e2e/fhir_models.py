"""Checks a FHIR JSON answer against the R4B models of fhir.resources, resource by resource."""

import importlib
from typing import Any

from fhir.resources.R4B.resource import Resource


def model_of(resource_type: str) -> type[Resource]:
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    model: type[Resource] = getattr(module, resource_type)
    return model


def valid(resource: dict[str, Any]) -> Resource:
    """The resource parsed by its R4B model; a field the model does not know is an error."""
    parsed = model_of(resource["resourceType"]).model_validate(resource)
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            valid(entry["resource"])
    return parsed
