"""The contact graph and its queries, from rows held in memory (no I/O)."""

import json
from datetime import date

import networkx as nx
from networkx.algorithms import bipartite

from projections.contacts import export
from projections.contacts import graph as g
from projections.contacts.rows import ContactRows, Edge, Episode, Person

T, OTHER = "dac-val-fictif", "dac-mont-fictif"
D = date.fromisoformat


def edge(pathway: str, member: str, role: str, since: str, until: str | None = None,
         organisation: str | None = None, episode: int = 1) -> Edge:
    return Edge(pathway, episode, member, f"Nom {member}", role, organisation, D(since),
                D(until) if until else None)


def scene() -> ContactRows:
    """Four persons on one territory, one on another.

    p1: transferred from gc-1 to gc-2 on 03-01, GP leaves on 04-01, a nurse throughout.
    p2: same GP and nurse as p1, same case manager gc-1.
    p3: the nurse comes only after p3's GP left: they were never there together.
    p4: refused on 01-18: a node with its referrer only.
    p5: another territory, the same nurse.
    """
    persons = [
        Person("p1", "FICTIF Alice", "Villefictive", T, "active", 1),
        Person("p2", "EXEMPLE Bernard", "Saint-Exemple", T, "active", 1),
        Person("p3", "MODÈLE Colette", "Bourg-Témoin", T, "closed", 1),
        Person("p4", "TÉMOIN Denis", "Val-d'Essai", T, "refused", 1),
        Person("p5", "ESSAI Eugénie", "Montfictif", OTHER, "active", 1),
    ]
    episodes = [
        Episode("p1", 1, T, D("2026-01-10"), D("2026-01-20")),
        Episode("p2", 1, T, D("2026-01-12"), D("2026-01-20")),
        Episode("p3", 1, T, D("2026-01-05"), D("2026-01-06"), D("2026-06-30"), "moved_out"),
        Episode("p4", 1, T, D("2026-01-15"), None, D("2026-01-18"), "refused"),
        Episode("p5", 1, OTHER, D("2026-01-02"), D("2026-01-03")),
    ]
    edges = [
        edge("p1", "pro-r", "referrer", "2026-01-10", organisation="Cabinet  A"),
        edge("p1", "gc-1", "case_manager", "2026-01-20", "2026-03-01"),
        edge("p1", "gc-2", "case_manager", "2026-03-01"),
        edge("p1", "gp-1", "attending_gp", "2026-01-25", "2026-04-01", "Cabinet A"),
        edge("p1", "n-1", "nurse", "2026-02-01", organisation="Cabinet infirmier"),
        edge("p1", "fam-1", "family_carer", "2026-01-10"),
        edge("p2", "gp-1", "attending_gp", "2026-01-25", organisation="Cabinet A"),
        edge("p2", "n-1", "nurse", "2026-02-01", organisation="Cabinet infirmier"),
        edge("p2", "gc-1", "case_manager", "2026-01-20"),
        edge("p2", "fam-1", "family_carer", "2026-01-12"),
        edge("p3", "gp-1", "attending_gp", "2026-01-06", "2026-02-01", "Cabinet A"),
        edge("p3", "n-1", "nurse", "2026-02-01", "2026-06-30", "Cabinet infirmier"),
        edge("p4", "pro-r", "referrer", "2026-01-15", "2026-01-18", "Cabinet A"),
        edge("p5", "n-1", "nurse", "2026-01-03", organisation="SSIAD du Mont"),
    ]
    return ContactRows(persons, episodes, edges)


def test_nodes_are_persons_professionals_relatives_and_organisations() -> None:
    graph = g.build_graph(scene())
    kinds = dict(graph.nodes(data="kind"))
    assert {n for n, k in kinds.items() if k == "person"} == {f"person:p{i}" for i in (1, 2, 3,
                                                                                         4, 5)}
    assert {n for n, k in kinds.items() if k == "professional"} == {
        "pro:pro-r", "pro:gc-1", "pro:gc-2", "pro:gp-1", "pro:n-1"}
    # A relative belongs to one person, even when two files happen to use the same id.
    assert {n for n, k in kinds.items() if k == "relative"} == {
        "relative:p1:fam-1", "relative:p2:fam-1"}
    # "Cabinet  A" and "Cabinet A" are the same organisation.
    assert {n for n, k in kinds.items() if k == "organisation"} == {
        "org:Cabinet A", "org:Cabinet infirmier", "org:SSIAD du Mont"}
    assert set(graph["pro:n-1"]) >= {"org:Cabinet infirmier", "org:SSIAD du Mont"}
    assert graph.degree("person:p4") == 1  # refused: the referrer only


def test_an_intervention_is_an_edge_with_its_role_and_period() -> None:
    graph = g.build_graph(scene())
    p1_gp = graph.get_edge_data("person:p1", "pro:gp-1")
    assert p1_gp == {"attending_gp:2026-01-25": {
        "kind": "intervention", "role": "attending_gp", "role_label": "médecin traitant",
        "since": "2026-01-25", "until": "2026-04-01", "episode": 1, "organisation": "Cabinet A"}}
    # An open period has no "until" (GraphML has no null).
    assert "until" not in graph.edges["person:p1", "pro:gc-2", "case_manager:2026-03-01"]


def test_the_care_circle_at_a_date_follows_periods_with_an_exclusive_end() -> None:
    graph = g.build_graph(scene())

    def circle(day: str) -> list[tuple[str, str]]:
        return [(m.role, m.member_id) for m in g.care_circle(graph, "p1", D(day))]

    assert circle("2026-02-28") == [
        ("case_manager", "gc-1"), ("referrer", "pro-r"), ("attending_gp", "gp-1"),
        ("nurse", "n-1"), ("family_carer", "fam-1")]
    assert circle("2026-03-01")[0] == ("case_manager", "gc-2")
    assert ("attending_gp", "gp-1") in circle("2026-03-31")
    assert ("attending_gp", "gp-1") not in circle("2026-04-01")
    assert circle("2026-01-09") == []
    member = g.care_circle(graph, "p1", D("2026-02-01"))[2]
    assert (member.name, member.role_label, member.organisation) == (
        "Nom gp-1", "médecin traitant", "Cabinet A")


def test_professionals_are_ranked_by_distinct_persons() -> None:
    ranking = g.professional_ranking(g.build_graph(scene()))
    assert [(r.professional_id, r.persons) for r in ranking] == [
        ("n-1", 4), ("gp-1", 3), ("gc-1", 2), ("pro-r", 2), ("gc-2", 1)]
    nurse = ranking[0]
    assert nurse.roles == ["nurse"]
    assert nurse.organisations == ["Cabinet infirmier", "SSIAD du Mont"]
    assert all(not r.professional_id.startswith("fam") for r in ranking)  # relatives are not


def test_rankings_by_role_territory_and_date() -> None:
    rows = scene()
    gps = g.professional_ranking(g.build_graph(rows), role="attending_gp")
    assert [(r.professional_id, r.persons) for r in gps] == [("gp-1", 3)]
    local = g.professional_ranking(g.build_graph(rows.in_territory(T)), limit=2)
    assert [(r.professional_id, r.persons) for r in local] == [("gp-1", 3), ("n-1", 3)]
    on_april_1 = g.professional_ranking(g.build_graph(rows.in_territory(T).on(D("2026-04-01"))))
    assert {r.professional_id: r.persons for r in on_april_1} == {
        "n-1": 3, "gp-1": 1, "gc-1": 1, "gc-2": 1, "pro-r": 1}


def test_organisations_count_the_persons_of_their_own_interventions() -> None:
    ranking = g.organisation_ranking(g.build_graph(scene()))
    assert [(r.organisation, r.persons, r.professionals) for r in ranking] == [
        ("Cabinet A", 4, 2), ("Cabinet infirmier", 3, 1), ("SSIAD du Mont", 1, 1)]
    # p5 is followed by n-1 for the SSIAD du Mont, not for the Cabinet infirmier.


def test_pairs_count_persons_followed_together_at_the_same_time() -> None:
    found = g.pairs(g.build_graph(scene()))
    together = {(p.first_id, p.second_id): p.persons for p in found}
    # gp-1 and n-1 share p1, p2 and p3, but in p3 the nurse came when the GP had left.
    assert together[("gp-1", "n-1")] == 2
    assert together[("gc-1", "gp-1")] == 2
    assert ("gc-1", "gc-2") not in together  # a transfer: one after the other
    assert found[0].persons == 2
    assert g.pairs(g.build_graph(scene()), limit=2) == found[:2]


def test_on_a_date_pairs_are_the_plain_bipartite_projection() -> None:
    rows = scene().on(D("2026-02-15"))
    graph = g.build_graph(rows)
    professionals = {n for n, k in graph.nodes(data="kind") if k == "professional"}
    plain = nx.Graph((u, v) for u, v, k in graph.edges(data="kind") if k == "intervention"
                     and (u in professionals or v in professionals))
    expected = bipartite.weighted_projected_graph(plain, professionals & set(plain))
    found = g.pairs(graph)
    assert {(f"pro:{p.first_id}", f"pro:{p.second_id}"): p.persons for p in found} == {
        tuple(sorted((u, v))): w for u, v, w in expected.edges(data="weight")}


def test_persons_followed_without_an_attending_gp() -> None:
    rows = scene()

    def without(day: str, territory: str | None = None) -> list[tuple[str, str | None]]:
        return [(w.pathway_id, w.case_manager_id)
                for w in g.without_attending_gp(rows.in_territory(territory), D(day))]

    # On 01-16: p1 and p2 have no GP yet; p4 awaits its decision; p3's GP is there; p5 none.
    assert without("2026-01-16") == [("p5", None), ("p2", None), ("p1", None), ("p4", None)]
    waiting = g.without_attending_gp(rows, D("2026-01-16"))[-1]
    assert (waiting.status, waiting.referred_on) == ("awaiting_decision", D("2026-01-15"))
    # p3's GP left on 02-01; p1's on 04-01; after its refusal p4 is no longer followed.
    assert without("2026-04-01", T) == [("p1", "gc-2"), ("p3", None)]
    assert without("2026-02-15", T) == [("p3", None)]
    assert without("2026-07-01") == [("p5", None), ("p1", "gc-2")]  # p3 closed on 06-30


def test_filters_keep_whole_episodes_of_the_territory_and_date() -> None:
    rows = scene()
    local = rows.in_territory(OTHER)
    assert [p.pathway_id for p in local.persons] == ["p5"]
    assert [e.member_id for e in local.edges] == ["n-1"]
    snapshot = rows.on(D("2026-07-01"))
    assert {p.pathway_id for p in snapshot.persons} == {"p1", "p2", "p5"}
    assert all(e.until is None for e in snapshot.edges)


def test_node_link_json_round_trips() -> None:
    graph = g.build_graph(scene())
    data = json.loads(json.dumps(export.node_link(graph)))
    assert data["multigraph"] is True and "links" in data
    back = nx.node_link_graph(data, edges="links")
    assert nx.utils.graphs_equal(back, graph)


def test_graphml_round_trips_with_readable_labels() -> None:
    graph = g.build_graph(scene())
    text = export.graphml(graph).decode()
    assert text.startswith("<?xml")
    back = nx.parse_graphml(text, force_multigraph=True)
    assert set(back.nodes) == set(graph.nodes)
    assert back.number_of_edges() == graph.number_of_edges()
    assert back.nodes["person:p3"]["label"] == "MODÈLE Colette"
    assert back.edges["person:p1", "pro:gp-1", "attending_gp:2026-01-25"]["until"] == "2026-04-01"
    assert dict(back.nodes(data="kind")) == dict(graph.nodes(data="kind"))
