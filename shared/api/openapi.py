"""The OpenAPI description tells the truth about errors: every operation declares the error
statuses it can answer, each with the one error model (``{"error": {code, message,
details?}}``), instead of FastAPI's own validation shape and undeclared 401/403/404/409."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

_REF = "#/components/schemas/ErrorResponse"
_FHIR_RESOURCE = {"type": "object", "required": ["resourceType"],
                  "properties": {"resourceType": {"type": "string"}},
                  "description": "Une ressource FHIR R4 (OperationOutcome pour une erreur)"}


class ErrorDetail(BaseModel):
    code: str = Field(description="Code stable de l'erreur (request.invalid, access.denied…)")
    message: str = Field(description="Message en français")
    details: dict[str, Any] | None = Field(default=None, description="Précisions")


class ErrorResponse(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    "400": "Requête mal formée",
    "401": "Jeton absent, invalide ou expiré",
    "403": "Rôle insuffisant",
    "404": "Introuvable, ou hors de vos droits",
    "409": "Règle de la pratique, ou modification concurrente",
    "413": "Requête trop volumineuse",
    "422": "Requête invalide : champs en erreur",
    "503": "Journal des accès indisponible",
}


def _statuses(method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400", "404", "413", "422"]
    if operation.get("security"):
        statuses += ["401", "403"]
    if method in ("post", "put", "delete", "patch"):
        statuses.append("409")
    if method == "get":
        statuses.append("503")  # an answer that names persons is not sent unaudited
    return statuses


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the error responses to every operation of an OpenAPI document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    model = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model.pop("$defs", {}))
    components["ErrorResponse"] = model
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            # FHIR answers, errors included, are FHIR resources (an OperationOutcome).
            fhir = path.startswith("/fhir/")
            error = {"application/fhir+json": {"schema": _FHIR_RESOURCE}} if fhir \
                else {"application/json": {"schema": {"$ref": _REF}}}
            if fhir and "200" in responses:
                responses["200"]["content"] = {"application/fhir+json": {
                    "schema": _FHIR_RESOURCE}}
            for status in _statuses(method, operation):
                responses[status] = {"description": _DESCRIPTIONS[status], "content": error}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
