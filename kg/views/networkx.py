"""A typed networkx view of (part of) the graph, its inverse, and traversal helpers.

``graph_to_networkx`` turns triples (a CONSTRUCT result) into a ``networkx.MultiDiGraph``:

* a node per IRI or blank node that is a subject or an object, keyed by the IRI (blank
  nodes as ``_:id``), with ``type`` (its main class as a CURIE), ``types`` (all classes),
  ``label`` and ``literals`` (every literal-valued property, predicate IRI -> rdflib terms);
* an edge per triple between two nodes, keyed by the predicate's CURIE, with ``predicate``;
* a ``igkg:RadiogenomicAssociation`` is not a node but an edge feature -> target keyed by
  the association IRI, carrying its statistics as plain values (``statistic``,
  ``effect_size``, ``p``, ``q``, ``n``, ``method``, ``cohort``, ``run``) and, losslessly,
  every triple about it (``properties``: its outgoing (predicate, object) pairs;
  ``incoming``: (subject, predicate) pairs pointing at it).

``networkx_to_rdf`` is the inverse: the same triples come back, so the association model
round-trips. Every function here is a pure function of its input; nothing writes to a store.

>>> from rdflib import Graph
>>> g = Graph().parse(data='''
... @prefix igkg: <https://w3id.org/igkg/> .
... @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
... igkg:g a igkg:Gene ; rdfs:label "EGFR" .''', format="turtle")
>>> G = graph_to_networkx(g)
>>> [(u.rsplit("/", 1)[1], v.rsplit("/", 1)[1], d["q"]) for u, v, d in G.edges(data=True)]
[('f', 'g', 0.01)]
>>> set(networkx_to_rdf(G)) == set(g)
True
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import pandas as pd
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.core.errors import QuerySyntaxError
from kg.core.namespaces import IGKG, PREFIXES, PROV, RDF, RDFS, SKOS, compress

__all__ = [
    "ASSOCIATION_FIELDS",
    "WHOLE_GRAPH",
    "centrality",
    "find_nodes",
    "graph_to_networkx",
    "modules",
    "neighbourhood",
    "networkx_to_rdf",
    "shortest_paths",
    "subgraph",
]

logger = logging.getLogger(__name__)

WHOLE_GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
"""The CONSTRUCT query for the whole graph (the union of all named graphs)."""

ASSOCIATION_FIELDS: dict[str, URIRef] = {
    "statistic": IGKG.statistic,
    "effect_size": IGKG.effectSize,
    "p": IGKG.pValue,
    "q": IGKG.qValue,
    "bonferroni": IGKG.bonferroni,
    "n": IGKG.sampleSize,
    "method": IGKG.method,
    "cohort": IGKG.cohort,
    "run": PROV.wasGeneratedBy,
}
"""Edge attribute -> predicate: the association statistics copied onto each association edge."""

_LABELS = (RDFS.label, SKOS.prefLabel)
_FEATURE_TYPES = {"igkg:ImagingPhenotype", "igkg:RadiomicFeature", "igkg:ImagingTrait"}
_GENE_TYPES = {"igkg:Gene", "igkg:Marker"}
_PATHWAY_TYPES = {"igkg:Pathway", "igkg:GeneSet"}


def subgraph(kg: Any, construct: str | None = None, bindings: Mapping[str, Any] | None = None) -> nx.MultiDiGraph:
    """The typed MultiDiGraph of ``kg``'s whole graph or of a CONSTRUCT/DESCRIBE query's result.

    Works through ``kg.query`` only, so any backend (local or remote) is fine.

    :raises QuerySyntaxError: the query is a SELECT or ASK (or does not parse).

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
    >>> list(subgraph(kg).edges(keys=True))
    [('urn:example:a', 'urn:example:c', 'urn:example:b')]
    """
    result = kg.query(construct or WHOLE_GRAPH, bindings)
    if not isinstance(result, Graph):
        raise QuerySyntaxError("to_networkx needs a CONSTRUCT or DESCRIBE query (it got a SELECT or ASK result)")
    return graph_to_networkx(result)


def _key(term: Node) -> str:
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _term(key: str) -> URIRef | BNode:
    return BNode(key[2:]) if key.startswith("_:") else URIRef(key)


def graph_to_networkx(triples: Iterable[tuple[Node, Node, Node]]) -> nx.MultiDiGraph:
    """Turn triples into a typed MultiDiGraph (see the module docstring for its shape).

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> G.nodes["https://w3id.org/igkg/g"]["label"], G.nodes["https://w3id.org/igkg/g"]["type"]
    ('EGFR', 'igkg:Gene')
    """
    outgoing: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
    incoming: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
    for s, p, o in triples:
        outgoing[s].append((p, o))
        if not isinstance(o, Literal):
            incoming[o].append((s, p))
    associations = {
        s for s, pairs in outgoing.items() if (RDF.type, IGKG.RadiogenomicAssociation) in pairs and _ends(pairs)
    }
    G = nx.MultiDiGraph()
    nodes = (set(outgoing) | set(incoming)) - associations
    for node in nodes:
        _add_node(G, node, outgoing.get(node, []))
    for s, pairs in outgoing.items():
        if s in associations:
            continue
        for p, o in pairs:
            if isinstance(o, Literal) or p == RDF.type or o in associations:
                continue
            G.add_edge(_key(s), _key(o), key=compress(str(p)), predicate=str(p))
    for a in associations:
        _add_association(G, a, outgoing[a], incoming.get(a, []))
    return G


def _ends(pairs: list[tuple[Node, Node]]) -> bool:
    has_feature = any(p == IGKG.feature and not isinstance(o, Literal) for p, o in pairs)
    has_target = any(p == IGKG.target and not isinstance(o, Literal) for p, o in pairs)
    return has_feature and has_target


def _add_node(G: nx.MultiDiGraph, node: Node, pairs: list[tuple[Node, Node]]) -> None:
    types = sorted(str(o) for p, o in pairs if p == RDF.type)
    literals: dict[str, list[Literal]] = defaultdict(list)
    for p, o in pairs:
        if isinstance(o, Literal):
            literals[str(p)].append(o)
    label = next((str(v[0]) for p in _LABELS if (v := sorted(literals.get(str(p), []))) ), None)
    curies = [compress(t) for t in types]
    G.add_node(
        _key(node),
        iri=None if isinstance(node, BNode) else str(node),
        type=_main_type(curies),
        types=curies,
        type_iris=types,
        label=label or compress(str(node)),
        literals={p: sorted(v) for p, v in literals.items()},
    )


def _main_type(curies: list[str]) -> str:
    own = [c for c in curies if c.startswith("igkg:")]
    return (own or curies or [""])[0]


def _add_association(G: nx.MultiDiGraph, a: Node, pairs: list[tuple[Node, Node]], into: list[tuple[Node, Node]]) -> None:
    values: dict[str, Any] = {}
    for name, predicate in ASSOCIATION_FIELDS.items():
        found = sorted(o for p, o in pairs if p == predicate)
        if found:
            values[name] = found[0].toPython() if isinstance(found[0], Literal) else str(found[0])
    features = sorted(o for p, o in pairs if p == IGKG.feature and not isinstance(o, Literal))
    targets = sorted(o for p, o in pairs if p == IGKG.target and not isinstance(o, Literal))
    for f in features:
        for t in targets:
            for end in (f, t):
                if _key(end) not in G:
                    _add_node(G, end, [])
            G.add_edge(
                _key(f),
                _key(t),
                key=_key(a),
                predicate=str(IGKG.RadiogenomicAssociation),
                association=_key(a),
                types=sorted(compress(str(o)) for p, o in pairs if p == RDF.type),
                properties=sorted(pairs),
                incoming=sorted(into),
                **values,
            )


def networkx_to_rdf(G: nx.MultiDiGraph) -> Graph:
    """The triples a view made by ``graph_to_networkx`` came from (its exact inverse).

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> len(networkx_to_rdf(G))   # the 11 triples it came from
    11
    """
    graph = Graph()
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri)
    for key, data in G.nodes(data=True):
        node = _term(key)
        for t in data.get("type_iris", []):
            graph.add((node, RDF.type, URIRef(t)))
        for p, values in data.get("literals", {}).items():
            for value in values:
                graph.add((node, URIRef(p), value))
    for u, v, data in G.edges(data=True):
        if "association" in data:
            a = _term(data["association"])
            for p, o in data["properties"]:
                graph.add((a, p, o))
            for s, p in data["incoming"]:
                graph.add((s, p, a))
        else:
            graph.add((_term(u), URIRef(data["predicate"]), _term(v)))
    return graph


# ---------------------------------------------------------------------- traversal
def find_nodes(G: nx.MultiDiGraph, name: str) -> list[str]:
    """Nodes named by ``name``: their key (IRI), CURIE, label, or any literal value (e.g. a pyradiomics name).

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> find_nodes(G, "EGFR"), find_nodes(G, "igkg:p")
    (['https://w3id.org/igkg/g'], ['https://w3id.org/igkg/p'])
    """
    if name in G:
        return [name]
    found = []
    for key, data in G.nodes(data=True):
        if name in (compress(key), data.get("label")) or any(
            str(v) == name for values in data.get("literals", {}).values() for v in values
        ):
            found.append(key)
    return sorted(found)


def _one(G: nx.MultiDiGraph, name: str) -> str:
    found = find_nodes(G, name)
    if not found:
        raise KeyError(f"no node named {name!r} in the graph")
    if len(found) > 1:
        raise KeyError(f"{name!r} names several nodes: {', '.join(found[:5])}")
    return found[0]


def shortest_paths(
    G: nx.MultiDiGraph, source: str, target: str, *, directed: bool = False, limit: int = 20
) -> list[list[str]]:
    """The shortest paths (as lists of node keys) from ``source`` to ``target``, e.g. a feature to a disease.

    Edges are walked both ways unless ``directed`` (a pathway is reached from its member
    gene against the ``memberOf`` direction). Names are resolved with ``find_nodes``.

    :raises KeyError: a name finds no node, or several.

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> [[node.rsplit("/", 1)[1] for node in path] for path in shortest_paths(G, "Sphericity", "Signalling")]
    [['f', 'g', 'p']]
    """
    start, end = _one(G, source), _one(G, target)
    view = G if directed else G.to_undirected(as_view=True)
    paths: list[list[str]] = []
    try:
        for path in nx.all_shortest_paths(view, start, end):
            paths.append(list(path))
            if len(paths) >= limit:
                break
    except nx.NetworkXNoPath:
        return []
    return sorted(paths)


def neighbourhood(G: nx.MultiDiGraph, node: str, k: int = 1) -> nx.MultiDiGraph:
    """The sub-view of nodes at most ``k`` edges (either direction) from ``node``, e.g. a gene.

    :raises KeyError: the name finds no node, or several.

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> sorted(find_nodes(neighbourhood(G, "Signalling", k=1), "EGFR"))
    ['https://w3id.org/igkg/g']
    """
    start = _one(G, node)
    reach = nx.single_source_shortest_path_length(G.to_undirected(as_view=True), start, cutoff=k)
    return G.subgraph(reach).copy()


def _kind(data: Mapping[str, Any]) -> str | None:
    types = set(data.get("types", []))
    if types & _GENE_TYPES:
        return "gene"
    if types & _PATHWAY_TYPES:
        return "pathway"
    if types & _FEATURE_TYPES or any(t.startswith("igkg:") and t.endswith("Feature") for t in types):
        return "feature"
    return None


def modules(G: nx.MultiDiGraph, *, min_size: int = 2) -> list[set[str]]:
    """Connected feature-gene-pathway modules: weakly connected parts of the graph restricted to
    features, genes, markers, pathways and gene sets, each holding a feature and a gene or
    marker; largest first. Association edges make a feature's node count as a feature too.

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> [sorted(node.rsplit("/", 1)[1] for node in module) for module in modules(G)]
    [['f', 'g', 'p']]
    """
    kinds = {n: _kind(d) for n, d in G.nodes(data=True)}
    for u, _v, d in G.edges(data=True):
        if "association" in d and kinds.get(u) is None:
            kinds[u] = "feature"
    keep = [n for n, k in kinds.items() if k is not None]
    found = []
    for part in nx.weakly_connected_components(G.subgraph(keep)):
        present = {kinds[n] for n in part}
        if len(part) >= min_size and "feature" in present and "gene" in present:
            found.append(set(part))
    return sorted(found, key=lambda s: (-len(s), sorted(s)))


def centrality(G: nx.MultiDiGraph, *, measure: str = "degree", types: Iterable[str] | None = None) -> pd.DataFrame:
    """Nodes ranked by centrality (``degree``, ``betweenness`` or ``pagerank``), optionally of some types only.

    Returns a DataFrame ``node, label, type, score`` sorted by score (highest first).

    :raises ValueError: an unknown measure.

    >>> from rdflib import Graph
    >>> G = graph_to_networkx(Graph().parse(format="turtle", data='''
    ... @prefix igkg: <https://w3id.org/igkg/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... igkg:a a igkg:RadiogenomicAssociation ; igkg:feature igkg:f ; igkg:target igkg:g ; igkg:qValue 1.0e-2 .
    ... igkg:f a igkg:RadiomicFeature ; rdfs:label "Sphericity" .
    ... igkg:g a igkg:Gene ; rdfs:label "EGFR" ; igkg:memberOf igkg:p .
    ... igkg:p a igkg:Pathway ; rdfs:label "Signalling" .'''))
    >>> centrality(G, types=["igkg:Gene", "igkg:Pathway"])[["label", "score"]].values.tolist()
    [['EGFR', 0.333...], ['Signalling', 0.166...]]
    """
    undirected = nx.Graph(G.to_undirected(as_view=True))
    if measure == "degree":
        scores = nx.degree_centrality(undirected) if len(undirected) > 1 else dict.fromkeys(undirected, 0.0)
    elif measure == "betweenness":
        scores = nx.betweenness_centrality(undirected)
    elif measure == "pagerank":
        scores = nx.pagerank(nx.DiGraph(G))
    else:
        raise ValueError(f"unknown centrality {measure!r}; one of degree, betweenness, pagerank")
    wanted = set(types) if types is not None else None
    rows = [
        {"node": n, "label": G.nodes[n].get("label"), "type": G.nodes[n].get("type"), "score": float(s)}
        for n, s in scores.items()
        if wanted is None or wanted & set(G.nodes[n].get("types", []))
    ]
    frame = pd.DataFrame(rows, columns=["node", "label", "type", "score"])
    return frame.sort_values(["score", "node"], ascending=[False, True], ignore_index=True)
