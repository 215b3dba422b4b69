"""The contact graph as files a coordinator can open: node-link JSON (D3, scripts) and
GraphML (Gephi, yEd, Cytoscape). Every node has a ``kind`` and a readable ``label``; every
intervention a ``role_label`` in French and its period. No I/O."""

import io
from typing import Any

import networkx as nx

GRAPHML_MEDIA_TYPE = "application/graphml+xml"


def node_link(graph: nx.MultiGraph) -> dict[str, Any]:
    # "links" rather than networkx's newer default "edges": what D3 and most viewers read.
    data: dict[str, Any] = nx.node_link_data(graph, edges="links")
    return data


def graphml(graph: nx.MultiGraph) -> bytes:
    # write_graphml, unlike generate_graphml, puts the XML declaration that viewers expect.
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8")
    return buffer.getvalue()
