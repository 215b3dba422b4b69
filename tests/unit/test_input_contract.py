"""One input contract per use case (issue 27): the web forms, the ADT feed and the demo build
the request model the JSON route takes (``shared.domain.requests``, ``referral_requests``) and
store its ``payload()``; none of them builds an event payload of ``shared.events`` itself,
but for the use cases no route has. Checked on the source: a call of a payload class, of its
``model_validate``/``model_construct``, or a payload class handed to a validating helper
(``forms.validate(ev.Referred, data)``), reached through any import of ``shared.events``."""

import ast
import inspect
from pathlib import Path

from shared.events import payloads

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("services/web", "services/hl7", "parcours")
PAYLOADS = {name for name, value in vars(payloads).items()
            if inspect.isclass(value) and issubclass(value, payloads.Payload)
            and value is not payloads.Payload}
BUILDERS = {"model_validate", "model_validate_json", "model_construct"}
HELPERS = {"validate", "event"}
"""The helpers that validate into the class they are given (the forms', the API's)."""
EVENT_MODULES = {"shared.events", "shared.events.payloads"}
EXEMPT = {
    # The ADT feed's own facts, which no route records: a hospital's cancellations and
    # corrections of its movements, and what it tells of the person's identity.
    ("services.hl7.mapping", "AdmissionCancelled"),
    ("services.hl7.mapping", "TransferCancelled"),
    ("services.hl7.mapping", "DischargeCancelled"),
    ("services.hl7.mapping", "IdentityQualified"),
    ("services.hl7.mapping", "IdentityVigilanceRaised"),
    ("services.hl7.corrections", "MovementCorrected"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """The payload classes by their local name, and the local names of the event modules."""
    classes: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in EVENT_MODULES:
            for alias in node.names:
                if alias.name in PAYLOADS:
                    classes[alias.asname or alias.name] = alias.name
        if isinstance(node, ast.ImportFrom) and node.module in ("shared", "shared.events"):
            for alias in node.names:
                if f"{node.module}.{alias.name}" in EVENT_MODULES:
                    modules.add(alias.asname or alias.name)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in EVENT_MODULES:
                    modules.add(alias.asname or alias.name)
    return classes, modules


def _payload_named(node: ast.expr, classes: dict[str, str], modules: set[str]) -> str | None:
    """``Hospitalised``, ``ev.Hospitalised``, ``ev.payloads.Hospitalised``,
    ``shared.events.Hospitalised``: the payload class ``node`` names, if any."""
    if isinstance(node, ast.Name):
        return classes.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr in PAYLOADS:
        owner = ast.unparse(node.value)
        if owner in modules or owner.removesuffix(".payloads") in modules \
                or owner in EVENT_MODULES:
            return node.attr
    return None


def built_payloads(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    classes, modules = _aliases(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in BUILDERS:
            func = func.value
        named = [_payload_named(func, classes, modules)]
        helper = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if helper in HELPERS:
            named += [_payload_named(argument, classes, modules) for argument in node.args]
        found.update(name for name in named if name)
    return found


def checked_modules() -> dict[str, Path]:
    return {module_name(p): p for top in CHECKED for p in (ROOT / top).rglob("*.py")}


def test_the_forms_the_feed_and_the_demo_build_request_models_not_events() -> None:
    built = {(name, payload) for name, path in checked_modules().items()
             for payload in built_payloads(path)}
    wrong = built - EXEMPT
    assert not wrong, sorted(wrong)
    assert built >= EXEMPT, f"no longer built, drop from EXEMPT: {sorted(EXEMPT - built)}"


def test_the_scan_sees_every_way_of_naming_a_payload(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from shared import events as ev\n"
        "from shared.events import Closed\n"
        "from shared.events.payloads import Admitted as A\n"
        "import shared.events\n"
        "ev.Referred(); ev.payloads.Evaluated(); Closed(); A.model_validate({})\n"
        "shared.events.Discharged()\n"
        "forms.validate(ev.Hospitalised, {}); validate(ev.payloads.Waitlisted, {})\n"
        "ev.Actor(); ev.payloads.Payload; isinstance(x, ev.Hospitalised)\n")
    assert built_payloads(source) == {"Referred", "Evaluated", "Closed", "Admitted",
                                      "Discharged", "Hospitalised", "Waitlisted"}
