"""From a submitted form to a validated command, with a French message per field.

Form fields are named after the model's dotted path (``person.family_name``), so pydantic's
error locations name the very field the message belongs next to."""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
PARIS = ZoneInfo("Europe/Paris")
GENERAL = "__all__"
"""The key of the errors that concern the whole form (a rule across several fields)."""


class FormError(Exception):
    """The form holds mistakes: ``errors`` maps a field name to its French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


HIDDEN = ("csrf", "idempotency_key")
"""What every form carries besides the command's fields (``macros.csrf_field``)."""


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``; empty strings mean "not given"."""
    tree: dict[str, Any] = {}
    for name, value in flat.items():
        if name in HIDDEN or value == "":
            continue
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def paris_datetime(value: str | None) -> str | None:
    """An ``<input type="datetime-local">`` value is a wall-clock time in Paris."""
    if not value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the model reports it next to the field
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.isoformat()


def french(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return "Ce champ est obligatoire."
    if kind.startswith("date_from_datetime") or kind.startswith("date_"):
        return "Date invalide : choisissez une date (jj/mm/aaaa)."
    if kind.startswith("datetime") or kind == "timezone_aware":
        return "Date et heure invalides."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Un nombre entier est attendu."
    if kind == "greater_than_equal":
        return f"La valeur doit être au moins {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"La valeur doit être au plus {ctx.get('le')}."
    if kind == "string_too_long":
        return f"Texte trop long : {ctx.get('max_length')} caractères au plus."
    if kind == "literal_error":
        return "Choisissez une des valeurs proposées."
    if kind == "string_pattern_mismatch":
        return "Format invalide."
    if kind in ("bool_parsing", "bool_type"):
        return "Répondez par oui ou non."
    if kind == "too_short":
        return "Au moins un élément est attendu."
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return "Valeur invalide."


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        raise FormError(errors_of(invalid)) from None


def built(build: Callable[[], M]) -> M:
    """The event a valid request maps to (its ``payload()``): a rule of the event broken by
    the request (a person outside the public) is a mistake of the form too."""
    try:
        return build()
    except ValidationError as invalid:
        raise FormError(errors_of(invalid)) from None


def errors_of(invalid: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in invalid.errors():
        name = ".".join(str(part) for part in error["loc"]) or GENERAL
        errors.setdefault(name, french(error))
    return errors
