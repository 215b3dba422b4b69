"""The contact graph built from the view's rows, and the questions coordinators ask of it.

Nodes: ``person:<pathway id>``, ``pro:<member id>`` (the same professional across every
person they follow), ``relative:<pathway id>:<member id>`` (a relative belongs to one person)
and ``org:<name>``. A person—member edge is one intervention: a role over a period, so a
professional who changed role or came back has several edges (a multigraph). A professional
is linked once to each organisation named for them. No I/O."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx
from networkx.algorithms import bipartite

from projections.contacts.rows import (
    ATTENDING_GP,
    CASE_MANAGER,
    ROLE_ORDER,
    ContactRows,
    Edge,
    role_label,
)

PERSON, PROFESSIONAL, RELATIVE, ORGANISATION = "person", "professional", "relative", "organisation"
INTERVENTION, MEMBERSHIP = "intervention", "membership"


def person_node(pathway_id: str) -> str:
    return f"person:{pathway_id}"


def member_node(edge: Edge) -> str:
    if edge.is_relative:
        return f"relative:{edge.pathway_id}:{edge.member_id}"
    return f"pro:{edge.member_id}"


def organisation_name(name: str) -> str:
    # Typed by people: spacing varies, the name does not.
    return " ".join(name.split())


def build_graph(rows: ContactRows) -> nx.MultiGraph:
    graph = nx.MultiGraph(name="Graphe des intervenants")
    for p in sorted(rows.persons, key=lambda p: p.pathway_id):
        graph.add_node(person_node(p.pathway_id), kind=PERSON, label=p.label, commune=p.commune,
                       territory=p.territory, status=p.status, episode=p.episode)
    # Oldest first, so that a member's most recent name is the one the node keeps.
    for e in sorted(rows.edges, key=lambda e: (e.since, e.pathway_id, e.member_id, e.role)):
        person = person_node(e.pathway_id)
        if person not in graph:
            continue
        member = member_node(e)
        graph.add_node(member, kind=RELATIVE if e.is_relative else PROFESSIONAL,
                       label=e.member_name, member_id=e.member_id)
        # GraphML has no null: an open period simply has no "until", a member no organisation.
        attrs: dict[str, Any] = {"kind": INTERVENTION, "role": e.role,
                                 "role_label": role_label(e.role),
                                 "since": e.since.isoformat(), "episode": e.episode}
        if e.until is not None:
            attrs["until"] = e.until.isoformat()
        if e.organisation:
            attrs["organisation"] = organisation_name(e.organisation)
        graph.add_edge(person, member, key=f"{e.role}:{e.since.isoformat()}", **attrs)
        if e.organisation and not e.is_relative:
            org = f"org:{attrs['organisation']}"
            graph.add_node(org, kind=ORGANISATION, label=attrs["organisation"])
            if not graph.has_edge(member, org, key=MEMBERSHIP):
                graph.add_edge(member, org, key=MEMBERSHIP, kind=MEMBERSHIP)
    return graph


def _interventions(graph: nx.MultiGraph, node: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(other end, attributes) of each intervention edge of a node."""
    for _, other, attrs in graph.edges(node, data=True):
        if attrs["kind"] == INTERVENTION:
            yield other, attrs


def _period(attrs: dict[str, Any]) -> tuple[date, date | None]:
    until = attrs.get("until")
    return date.fromisoformat(attrs["since"]), date.fromisoformat(until) if until else None


def _nodes(graph: nx.MultiGraph, kind: str) -> list[str]:
    return sorted(n for n, k in graph.nodes(data="kind") if k == kind)


# -- the care circle -------------------------------------------------------------------------

@dataclass(frozen=True)
class CircleMember:
    member_id: str
    name: str
    kind: str
    role: str
    role_label: str
    organisation: str | None
    since: date
    until: date | None


def care_circle(graph: nx.MultiGraph, pathway_id: str, day: date) -> list[CircleMember]:
    """Who intervenes for the person on that day, case manager first, then by role."""
    members = []
    for member, attrs in _interventions(graph, person_node(pathway_id)):
        since, until = _period(attrs)
        if since <= day and (until is None or day < until):
            node = graph.nodes[member]
            members.append(CircleMember(
                member_id=node["member_id"], name=node["label"], kind=node["kind"],
                role=attrs["role"], role_label=attrs["role_label"],
                organisation=attrs.get("organisation"), since=since, until=until,
            ))
    return sorted(members, key=lambda m: (ROLE_ORDER.get(m.role, len(ROLE_ORDER)), m.name,
                                          m.member_id))


# -- rankings --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProfessionalRank:
    professional_id: str
    name: str
    persons: int
    roles: list[str]
    organisations: list[str]


def professional_ranking(graph: nx.MultiGraph, role: str | None = None,
                         limit: int | None = None) -> list[ProfessionalRank]:
    """Professionals by the number of distinct persons they intervene for."""
    ranks = []
    for node in _nodes(graph, PROFESSIONAL):
        persons, roles = set(), set()
        for person, attrs in _interventions(graph, node):
            if role is None or attrs["role"] == role:
                persons.add(person)
                roles.add(attrs["role"])
        if persons:
            organisations = sorted(graph.nodes[o]["label"] for o in graph[node]
                                   if graph.nodes[o]["kind"] == ORGANISATION)
            ranks.append(ProfessionalRank(
                professional_id=graph.nodes[node]["member_id"], name=graph.nodes[node]["label"],
                persons=len(persons), roles=sorted(roles, key=lambda r: ROLE_ORDER.get(r, 99)),
                organisations=organisations,
            ))
    ranks.sort(key=lambda r: (-r.persons, r.name, r.professional_id))
    return ranks[:limit]


@dataclass(frozen=True)
class OrganisationRank:
    organisation: str
    persons: int
    professionals: int


def organisation_ranking(graph: nx.MultiGraph, limit: int | None = None) -> list[OrganisationRank]:
    """Organisations by the number of distinct persons their professionals intervene for,
    counting only the interventions made for that organisation."""
    ranks = []
    for org in _nodes(graph, ORGANISATION):
        name = graph.nodes[org]["label"]
        professionals = [p for p in graph[org] if graph.nodes[p]["kind"] == PROFESSIONAL]
        persons = {person for pro in professionals for person, attrs in _interventions(graph, pro)
                   if attrs.get("organisation") == name}
        ranks.append(OrganisationRank(name, len(persons), len(professionals)))
    ranks.sort(key=lambda r: (-r.persons, r.organisation))
    return ranks[:limit]


# -- pairs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    first_id: str
    first_name: str
    second_id: str
    second_name: str
    persons: int


Period = tuple[date, date | None]


def _overlap(a: Period, b: Period) -> bool:
    (s1, u1), (s2, u2) = a, b
    if (u1 is not None and u1 <= s1) or (u2 is not None and u2 <= s2):
        return False  # an empty period: that member was never there
    return (u2 is None or s1 < u2) and (u1 is None or s2 < u1)


def _together(b: nx.Graph, u: str, v: str) -> int:
    """Persons for whom u and v intervened at the same time (not merely both, years apart)."""
    return sum(
        1 for person in set(b[u]) & set(b[v])
        if any(_overlap(x, y) for x in b[u][person]["periods"] for y in b[v][person]["periods"])
    )


def pairs(graph: nx.MultiGraph, limit: int | None = None) -> list[Pair]:
    """Pairs of professionals by the number of persons they intervene for together."""
    professionals = set(_nodes(graph, PROFESSIONAL))
    followed = nx.Graph()  # bipartite: professionals on one side, persons on the other
    for pro in sorted(professionals):
        for person, attrs in _interventions(graph, pro):
            if not followed.has_edge(pro, person):
                followed.add_edge(pro, person, periods=[])
            followed[pro][person]["periods"].append(_period(attrs))
    projected = bipartite.generic_weighted_projected_graph(
        followed, [p for p in followed if p in professionals], weight_function=_together)
    found = []
    for u, v, weight in projected.edges(data="weight"):
        if weight:
            first, second = sorted((u, v))
            found.append(Pair(graph.nodes[first]["member_id"], graph.nodes[first]["label"],
                              graph.nodes[second]["member_id"], graph.nodes[second]["label"],
                              weight))
    found.sort(key=lambda p: (-p.persons, p.first_name, p.second_name, p.first_id, p.second_id))
    return found[:limit]


# -- persons without an attending GP ---------------------------------------------------------

@dataclass(frozen=True)
class WithoutGp:
    pathway_id: str
    person: str
    commune: str
    territory: str
    status: str
    referred_on: date
    case_manager_id: str | None
    case_manager_name: str | None


def without_attending_gp(rows: ContactRows, day: date) -> list[WithoutGp]:
    """Persons followed on that day (referred or admitted, not closed) with no médecin
    traitant in their care circle that day."""
    today = rows.on(day)
    graph = build_graph(today)
    referred_on = {e.pathway_id: e.referred_on for e in today.episodes}
    found = []
    for person in sorted(today.persons, key=lambda p: (p.label, p.pathway_id)):
        roles = {attrs["role"]: other
                 for other, attrs in _interventions(graph, person_node(person.pathway_id))}
        if ATTENDING_GP in roles:
            continue
        manager = roles.get(CASE_MANAGER)
        found.append(WithoutGp(
            pathway_id=person.pathway_id, person=person.label, commune=person.commune,
            territory=person.territory, status=person.status,
            referred_on=referred_on[person.pathway_id],
            case_manager_id=graph.nodes[manager]["member_id"] if manager else None,
            case_manager_name=graph.nodes[manager]["label"] if manager else None,
        ))
    return found
