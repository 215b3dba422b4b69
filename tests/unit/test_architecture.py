"""The tree's layering, checked on the source: the domain imports nothing but itself, the event
contract and pure libraries; no service imports another; only ``parcours/``, the composition
root, builds the stores and clients from the settings, and nothing it builds imports it; no
module imports itself in a circle."""

import ast
import sys
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("shared", "services", "projections", "parcours", "bench")
DOMAIN_MAY_IMPORT = ("shared.domain", "shared.events", "pydantic", "eventsourcing.domain",
                     "eventsourcing.utils")
PRODUCT = ("shared", "services", "projections")
"""What ``parcours/`` builds; ``bench/``, like the tests, drives what it builds."""
BUILT_BY_THE_ROOT = {"Settings", "WebSettings", "NotificationSettings", "PostgresDatabase",
                     "SqliteDatabase", "Journal", "JournalReader", "KafkaProjector"}
"""The settings read from the environment, and the stores and clients made from them."""
MAY_BUILD = {
    # The relay's read-ahead child process: a journal cannot cross the process boundary, so
    # it opens its own from the store's settings it is handed.
    ("services.relay.reader", "Journal"),
    # A default for callers that pass no settings (tests); the composition root passes its own.
    ("services.notifications.service", "NotificationSettings"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for top in FIRST_PARTY for p in (ROOT / top).rglob("*.py")}


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The modules ``path`` imports anywhere in it (for type checking too), a ``from package
    import module`` counted as the module."""
    found: set[str] = set()
    package = module_name(path).rpartition(".")[0] if path.name != "__init__.py" \
        else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(base)
    return found


def test_the_domain_imports_only_itself_the_event_contract_and_pure_libraries() -> None:
    known = modules()
    stdlib = sys.stdlib_module_names
    wrong = {
        f"{name} imports {imported}"
        for name, path in known.items() if name.startswith("shared.domain")
        for imported in imports(path, known)
        if imported.split(".")[0] not in stdlib
        and not any(imported == allowed or imported.startswith(allowed + ".")
                    for allowed in DOMAIN_MAY_IMPORT)
    }
    assert not wrong, sorted(wrong)


def test_no_service_imports_another() -> None:
    known = modules()
    wrong = {
        f"{name} imports {imported}"
        for name, path in known.items() if name.startswith("services.")
        for imported in imports(path, known)
        if imported.startswith("services.") and imported.split(".")[1] != name.split(".")[1]
    }
    assert not wrong, sorted(wrong)


def test_nothing_but_parcours_imports_the_composition_root() -> None:
    """A service reaching into ``parcours/`` could take any part from there, or build one: the
    root stays above what it builds. A package's ``__main__`` is an entry point, and may hand
    over to the command line."""
    known = modules()
    wrong = {
        f"{name} imports {imported}"
        for name, path in known.items() if name.split(".")[0] in PRODUCT
        for imported in imports(path, known)
        if imported.split(".")[0] == "parcours"
        and not (name.endswith(".__main__") and imported == "parcours.cli")
    }
    assert not wrong, sorted(wrong)


def calls(path: Path) -> set[str]:
    """The names ``path`` calls: ``Journal(...)`` and ``sqldb.PostgresDatabase(...)`` alike."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                found.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                found.add(node.func.attr)
    return found


def test_services_and_projections_are_handed_their_stores_and_settings() -> None:
    wrong = {
        f"{name} builds {built}"
        for name, path in modules().items() if name.split(".")[0] in ("services", "projections")
        for built in calls(path) & BUILT_BY_THE_ROOT
        if (name, built) not in MAY_BUILD
    }
    assert not wrong, sorted(wrong)


def test_no_import_circle() -> None:
    known = modules()
    graph = nx.DiGraph()
    for name, path in known.items():
        graph.add_node(name)
        for imported in imports(path, known):
            # A package's __init__ importing its own modules is how a package is built.
            if imported in known and imported != name and not imported.startswith(name + "."):
                graph.add_edge(name, imported)
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not circles, circles
