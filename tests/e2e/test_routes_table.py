"""docs/routes.md names every route of the application and the file that holds it: a route
added without its row, a row left behind by a removed route, or a row naming another file than
the one the route's function is defined in fails here."""

import re
from pathlib import Path

from fastapi.routing import iter_route_contexts

from parcours.bootstrap import create_app
from shared.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "routes.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| `([^`]+)` \|$")
FIRST_PARTY = ("parcours", "projections", "services", "shared")


def documented() -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in TABLE.read_text().splitlines():
        if match := ROW.match(line):
            method, path, file = match.groups()
            assert (method, path) not in rows, f"docs/routes.md: {method} {path} twice"
            rows[method, path] = file
    return rows


def served(tmp_path: Path) -> dict[tuple[str, str], str]:
    """Every route of the embedded application, with every optional router mounted (the
    alert channels, the development sign-in), and the file its function is defined in.
    FastAPI's own ``/openapi.json`` and the ``/static`` mount are not the repository's."""
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var"))
    routes: dict[tuple[str, str], str] = {}
    for route in iter_route_contexts(app.routes):
        module = getattr(route.endpoint, "__module__", "") or ""
        if module.split(".")[0] not in FIRST_PARTY or route.path is None:
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                routes[method, route.path] = module.replace(".", "/") + ".py"
    return routes


def test_every_route_is_in_the_table_with_its_file(tmp_path: Path) -> None:
    rows, routes = documented(), served(tmp_path)
    assert {"/alerts/{alert_id}/acknowledgement", "/health"} <= {p for _, p in routes}
    missing = [f"| {m} | `{p}` | `{f}` |" for (m, p), f in routes.items() if (m, p) not in rows]
    assert not missing, "docs/routes.md lacks these rows:\n" + "\n".join(missing)
    gone = sorted(f"{m} {p}" for m, p in rows.keys() - routes.keys())
    assert not gone, f"docs/routes.md names routes the application does not have: {gone}"
    wrong = sorted(f"{m} {p}: {rows[m, p]} in the table, {f} in the code"
                   for (m, p), f in routes.items() if rows[m, p] != f)
    assert not wrong, f"docs/routes.md names the wrong file: {wrong}"
    assert all((ROOT / f).is_file() for f in rows.values())
