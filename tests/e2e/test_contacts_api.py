"""The contact graph through HTTP on the embedded platform (SQLite, fed from the store's log).

The platform is the real one from ``parcours.bootstrap.create_app``."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from shared import fictitious as f
from shared.events.values import CareRole
from shared.runtime.settings import Settings
from tests.e2e.api import admit, dump, manager, post, referred
from tests.e2e.conftest import HEADERS, open_territory


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(mode="embedded", data_dir=tmp_path / "var"))
    with TestClient(app, headers=HEADERS) as test_client:
        open_territory(test_client)
        yield test_client


def join(client: TestClient, pathway: str, member_id: str, role: CareRole = "attending_gp",
         organisation: str | None = None) -> None:
    body = dump(f.member(member_id, role))  # joined on 2026-01-25, "Cabinet fictif"
    if organisation:
        body["member"]["organisation"] = organisation
    post(client, f"/pathways/{pathway}/care-circle", body)


@pytest.fixture
def scene(client: TestClient) -> dict[str, str]:
    """p1: GP leaves on 04-01. p2: same GP and nurse, and a SSIAD. p3: a nurse, no GP.
    p4: refused. p5: its own GP, closed on 06-30. Everyone referred on 01-15, admitted 01-20."""
    manager(client, "gc-1")
    manager(client, "gc-2")
    p = {f"p{seed}": referred(client, seed) for seed in range(1, 6)}
    for name, case_manager in (("p1", "gc-1"), ("p2", "gc-1"), ("p3", "gc-2"), ("p5", "gc-2")):
        admit(client, p[name], case_manager)
    join(client, p["p1"], "gp-1")
    join(client, p["p1"], "nurse-1", "nurse")
    post(client, f"/pathways/{p['p1']}/care-circle/gp-1/departure", {"left_on": "2026-04-01"})
    join(client, p["p2"], "gp-1")
    join(client, p["p2"], "nurse-1", "nurse")
    join(client, p["p2"], "ssiad-1", "ssiad", organisation="SSIAD fictif")
    join(client, p["p3"], "nurse-1", "nurse")
    post(client, f"/pathways/{p['p4']}/refusal", {
        "decided_on": "2026-01-20", "reason_code": "other_service_better_suited",
        "reason": "Un SSIAD suffit", "orientation": {"to": "SSIAD fictif", "kind": "service"}})
    join(client, p["p5"], "gp-2")
    post(client, f"/pathways/{p['p5']}/closure", dump(f.closure()))
    return p


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_care_circle_at_a_date(client: TestClient, scene: dict[str, str]) -> None:
    def circle(on: str) -> list[tuple[str, str]]:
        body = get(client, f"/graph/persons/{scene['p1']}/care-circle", on=on)
        return [(m["role"], m["member_id"]) for m in body["members"]]

    march = get(client, f"/graph/persons/{scene['p1']}/care-circle", on="2026-03-01")
    assert march["followed"] is True and march["on"] == "2026-03-01"
    assert march["person"] == "TÉMOIN Henri"
    assert [m["role"] for m in march["members"]] == [  # case manager first, then by role
        "case_manager", "referrer", "attending_gp", "nurse"]
    assert march["members"][0]["member_id"] == "gc-1"
    gp = next(m for m in march["members"] if m["role"] == "attending_gp")
    assert gp == {"member_id": "gp-1", "name": "Dr GP-1 Fictif", "kind": "professional",
                  "role": "attending_gp", "role_label": "médecin traitant",
                  "organisation": "Cabinet fictif", "since": "2026-01-25", "until": "2026-04-01"}
    assert ("attending_gp", "gp-1") not in circle("2026-04-01")
    assert circle("2026-01-14") == []

    closed = get(client, f"/graph/persons/{scene['p5']}/care-circle", on="2026-07-01")
    assert (closed["followed"], closed["members"]) == (False, [])
    missing = client.get("/graph/persons/00000000-0000-4000-8000-000000000000/care-circle")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "pathway.not_found"


def test_professionals_and_organisations_ranked_by_persons(
    client: TestClient, scene: dict[str, str]
) -> None:
    ranking = get(client, "/graph/professionals/ranking")
    assert ranking[0] == {"professional_id": "nurse-1", "name": "Dr NURSE-1 Fictif",
                          "persons": 3, "roles": ["nurse"], "organisations": ["Cabinet fictif"]}
    counts = {r["professional_id"]: r["persons"] for r in ranking}
    assert {k: counts[k] for k in ("gc-1", "gc-2", "gp-1", "gp-2", "ssiad-1")} == {
        "gc-1": 2, "gc-2": 2, "gp-1": 2, "gp-2": 1, "ssiad-1": 1}
    assert sum(1 for r in ranking if r["roles"] == ["referrer"]) == 5  # one per referral

    gps = get(client, "/graph/professionals/ranking", role="attending_gp")
    assert [(r["professional_id"], r["persons"]) for r in gps] == [("gp-1", 2), ("gp-2", 1)]
    later = get(client, "/graph/professionals/ranking", role="attending_gp", on="2026-07-01")
    assert [(r["professional_id"], r["persons"]) for r in later] == [("gp-1", 1)]  # p2 only
    assert get(client, "/graph/professionals/ranking", limit=1)[0]["professional_id"] == "nurse-1"
    other = client.get("/graph/professionals/ranking", params={"territory": "ailleurs"})
    assert other.status_code == 403  # a coordinator sees only their own territory

    organisations = get(client, "/graph/organisations/ranking")
    assert [(o["organisation"], o["persons"]) for o in organisations] == [
        ("Cabinet fictif", 5), ("SSIAD fictif", 1)]


def test_pairs_who_intervene_together(client: TestClient, scene: dict[str, str]) -> None:
    top = get(client, "/graph/pairs", on="2026-02-15", limit=3)
    assert {(p["first_id"], p["second_id"], p["persons"]) for p in top} == {
        ("gc-1", "gp-1", 2), ("gc-1", "nurse-1", 2), ("gp-1", "nurse-1", 2)}
    after = {(p["first_id"], p["second_id"]): p["persons"]
             for p in get(client, "/graph/pairs", on="2026-05-01", limit=500)}
    assert after[("gp-1", "nurse-1")] == 1  # gp-1 left p1 on 04-01
    assert after[("gc-2", "nurse-1")] == 1


def test_persons_without_attending_gp(client: TestClient, scene: dict[str, str]) -> None:
    def without(on: str) -> list[str]:
        return [w["pathway_id"] for w in get(client, "/graph/persons-without-attending-gp",
                                             on=on)]

    assert without("2026-02-15") == [scene["p3"]]
    may = get(client, "/graph/persons-without-attending-gp", on="2026-05-01")
    assert [(w["pathway_id"], w["case_manager_id"], w["status"]) for w in may] == [
        (scene["p3"], "gc-2", "active"), (scene["p1"], "gc-1", "active")]  # ESSAI, TÉMOIN
    assert may[0]["person"] == "ESSAI Bernard"
    assert without("2026-07-01") == [scene["p3"], scene["p1"]]  # p5 closed on 06-30
    # Before the decision, everyone referred and without a GP yet is listed, p4 included.
    assert len(without("2026-01-16")) == 5
    other = client.get("/graph/persons-without-attending-gp",
                       params={"on": "2026-05-01", "territory": "ailleurs"})
    assert other.status_code == 403


def test_export_as_node_link_json(client: TestClient, scene: dict[str, str]) -> None:
    response = client.get("/graph/export", params={"format": "json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "graphe-intervenants-dac-val-fictif.json" in response.headers["content-disposition"]
    graph = nx.node_link_graph(response.json(), edges="links")
    assert graph.is_multigraph()
    persons = {n for n, k in graph.nodes(data="kind") if k == "person"}
    assert persons == {f"person:{p}" for p in scene.values()}  # the refused person too
    assert graph.degree(f"person:{scene['p4']}") == 1  # its referrer
    edge = graph.edges[f"person:{scene['p1']}", "pro:gp-1", "attending_gp:2026-01-25"]
    assert (edge["role_label"], edge["until"]) == ("médecin traitant", "2026-04-01")
    assert graph.has_edge("pro:ssiad-1", "org:SSIAD fictif")


def test_export_as_graphml(client: TestClient, scene: dict[str, str]) -> None:
    response = client.get("/graph/export",
                          params={"format": "graphml", "territory": f.TERRITORY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphml+xml")
    assert f"graphe-intervenants-{f.TERRITORY}.graphml" in response.headers[
        "content-disposition"]
    graph = nx.parse_graphml(response.text, force_multigraph=True)
    assert graph.graph["territory"] == f.TERRITORY
    assert graph.nodes[f"person:{scene['p1']}"]["label"] == "TÉMOIN Henri"
    assert graph.nodes["org:Cabinet fictif"]["kind"] == "organisation"
    json_graph = nx.node_link_graph(get(client, "/graph/export"), edges="links")
    assert set(graph.nodes) == set(json_graph.nodes)
    assert graph.number_of_edges() == json_graph.number_of_edges()

    snapshot = client.get("/graph/export", params={"format": "graphml", "on": "2026-07-01"})
    july = nx.parse_graphml(snapshot.text, force_multigraph=True)
    assert {n for n, k in july.nodes(data="kind") if k == "person"} == {
        f"person:{scene[p]}" for p in ("p1", "p2", "p3")}
    assert client.get("/graph/export", params={"format": "pdf"}).status_code == 422
