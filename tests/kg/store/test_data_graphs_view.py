"""rdflib's view (``kg.dataset``, ``kg.sparql``) and ``export`` show what ``kg.query`` shows (issue 12 item 7).

A real file loaded with ``KnowledgeGraph.load`` beside what an interrupted load leaves (a
pending mark and part of its graph). Expected numbers are Oxigraph's own answers on the
file in a plain store, and the quads the store itself holds per graph.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from kg import KnowledgeGraph
from kg.core.errors import StoreError
from kg.core.namespaces import CATALOG_GRAPH, GRAPH_BASE
from kg.store.catalog import PENDING_GRAPH, mark_pending

GOOD = Path(__file__).resolve().parents[2] / "data" / "rdf" / "good" / "nlm_samples_head.nt"
ORPHAN = GRAPH_BASE + "rdf/interrupted.nt/0123456789abcdef"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
LABEL_OX = ox.NamedNode(str(LABEL))


def _reference(query: str = COUNT) -> int:
    """Oxigraph's answer with the file in a plain store's default graph."""
    store = ox.Store()
    store.load(path=str(GOOD), format=ox.RdfFormat.N_TRIPLES)
    return int(next(iter(store.query(query)))["n"].value)  # type: ignore[index]


def _quads(store: ox.Store, graph: str) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


@pytest.fixture
def kg(tmp_path: Path) -> Iterator[KnowledgeGraph]:
    graph = KnowledgeGraph(tmp_path / "store")
    graph.load(GOOD)
    # What a load killed mid-way leaves: its pending mark, and part of its graph.
    graph.store.update(mark_pending(ORPHAN, "2026-01-01T00:00:00Z"))
    graph.store.bulk_load(path=str(GOOD), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(ORPHAN))
    graph.store.add(ox.Quad(ox.NamedNode("urn:example:only-orphan"), LABEL_OX, ox.Literal("hidden"), ox.NamedNode(ORPHAN)))
    yield graph
    graph.close()



def test_sparql_and_the_dataset_view_show_the_default_graph_of_query(kg: KnowledgeGraph) -> None:
    expected = _reference()
    assert int(kg.query(COUNT)["n"].iloc[0]) == expected
    assert [int(row.n) for row in kg.sparql(COUNT)] == [expected]
    assert len(kg.dataset) == expected
    assert len(list(kg.dataset.triples((None, None, None)))) == expected
    labels = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{LABEL}> ?o }}"
    assert [int(row.n) for row in kg.sparql(labels)] == [_reference(labels)]
    assert not list(kg.dataset.triples((URIRef("urn:example:only-orphan"), None, None)))
    # a zero-length path matches every term of the default graph: catalog terms would count
    path = "SELECT (COUNT(*) AS ?n) WHERE { ?x <http://id.nlm.nih.gov/mesh/vocab#broaderDescriptor>* ?y }"
    assert [int(row.n) for row in kg.sparql(path)] == [_reference(path)] == [int(kg.query(path)["n"].iloc[0])]


def test_sparql_reads_the_catalog_by_name_and_never_a_hidden_graph(kg: KnowledgeGraph) -> None:
    in_store = len(_quads(kg.store, CATALOG_GRAPH))
    assert in_store > 10
    named = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?s ?p ?o }} }}"
    assert [int(row.n) for row in kg.sparql(named)] == [in_store]
    own = f"SELECT (COUNT(*) AS ?n) FROM <{CATALOG_GRAPH}> WHERE {{ ?s ?p ?o }}"
    assert [int(row.n) for row in kg.sparql(own)] == [in_store]
    hidden = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ORPHAN}> {{ ?s ?p ?o }} }}"
    assert [int(row.n) for row in kg.sparql(hidden)] == [0] == kg.query(hidden)["n"].tolist()
    graphs = {str(row.g) for row in kg.sparql("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert graphs == {*kg.data_graphs(), CATALOG_GRAPH}
    shown = {str(graph.identifier) for graph in kg.dataset.graphs()}
    assert ORPHAN not in shown and PENDING_GRAPH not in shown and CATALOG_GRAPH in shown
    assert len(kg.dataset.graph(URIRef(ORPHAN))) == 0
    assert len(kg.dataset.graph(URIRef(CATALOG_GRAPH))) == in_store
    bound = kg.sparql("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"p": LABEL})
    assert len(list(bound)) == _reference(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{LABEL}> ?o }}")


def test_export_writes_the_data_graphs_and_the_catalog_only(kg: KnowledgeGraph, tmp_path: Path) -> None:
    (graph,) = kg.data_graphs()
    nquads = tmp_path / "all.nq.gz"
    kg.export(nquads, format="nquads")
    fresh = ox.Store()
    with gzip.open(nquads, "rb") as handle:
        fresh.load(handle, ox.RdfFormat.N_QUADS)
    assert set(fresh) == _quads(kg.store, graph) | _quads(kg.store, CATALOG_GRAPH)
    assert _quads(kg.store, ORPHAN) and _quads(kg.store, PENDING_GRAPH)  # they are in the store, not in the file
    trig = tmp_path / "all.trig"
    kg.export(trig, format="trig")
    again = ox.Store()
    again.load(path=str(trig), format=ox.RdfFormat.TRIG)
    assert set(again) == set(fresh)
    turtle = tmp_path / "all.ttl"
    kg.export(turtle, format="turtle")
    flat = ox.Store()
    flat.load(path=str(turtle), format=ox.RdfFormat.TURTLE)
    assert set(flat) == {ox.Quad(q.subject, q.predicate, q.object) for q in fresh}
    with pytest.raises(StoreError, match="being loaded or deleted"):
        kg.export(tmp_path / "orphan.nq", graph=ORPHAN)
