"""Injection through every string, iri and curie parameter of every named query: refused or a literal.

For a string parameter the payload must change exactly one token of the rendered query (the
escaped literal in the VALUES block), the query must run, and it must return what a literal
that matches nothing returns (no rows): nothing of the payload is executed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.plugins.sparql import prepareQuery

from kg import KnowledgeGraph
from kg.core.errors import UnknownQuery
from kg.core.terms import nt
from kg.query.named import load_queries

PAYLOADS = [
    'x" } UNION { ?s ?p ?o } #',
    "x' } UNION { ?s ?p ?o } #",
    '"""x""" . ?s ?p ?o',
    "} UNION { ?association ?p ?o }",
    "x\" ) } SELECT * WHERE { ?s ?p ?o } #",
    "{ } } }",
    "x\\\" } UNION { ?s ?p ?o",
    "x\n} UNION { ?s ?p ?o }\n#",
    "#@params",
    "<http://example.org/a b> } UNION { ?s ?p ?o",
    "http://example.org/a b",
    "EGFR\" . FILTER(true) } #",
]
IRI_PAYLOADS = [
    "http://example.org/a b",
    "http://example.org/a> } UNION { ?s ?p ?o } #",
    "<http://example.org/a>",
    'http://example.org/"quoted"',
    "http://example.org/{braces}",
    "MESH:D009369> } UNION { ?s ?p ?o",
    "MESH:D0 09369",
    "igkg:a\" } #",
    "javascript alert(1)",
]

QUERIES = load_queries()
STRING_CASES = [(q, p.name) for q in QUERIES.values() for p in q.params if p.type == "string"]
IRI_CASES = [(q, p.name) for q in QUERIES.values() for p in q.params if p.type in ("iri", "curie")]


def _build(kg: KnowledgeGraph, shared_data: Path) -> None:
    from kg.analysis.associations import run_analysis, write_run

    root = Path(__file__).resolve().parents[3]
    kg.load(root / "ontologies/igkg.ttl", kind="rdf")
    kg.load(shared_data / "mesh/samples.nt", kind="mesh-rdf")
    kg.load(shared_data / "obo/oak_mondo-sample-mappings.obo", kind="obo")
    features = shared_data / "radiogenomics/nsclc_radiogenomics_original_features.csv"
    kg.load(features, kind="radiomics-csv", cohort="NSCLC-Radiogenomics")
    write_run(kg, run_analysis(kg, markers=["EGFR"], q_max=1.0))


@pytest.fixture
def graph(shared_data: Path, store_template: Callable[..., Path], fresh_store: Callable[[Path], Path]) -> Iterator[KnowledgeGraph]:
    """Real data the injected text could reach if it were executed (MeSH, features, markers, associations); a fresh copy per test."""
    template = store_template("injection", lambda kg: _build(kg, shared_data))
    with KnowledgeGraph(fresh_store(template)) as kg:
        yield kg


def test_every_query_has_a_parameter_under_test() -> None:
    tested = {q.name for q, _ in STRING_CASES + IRI_CASES}
    assert tested == {q.name for q in QUERIES.values() if q.params}
    assert len(STRING_CASES) >= 8 and len(IRI_CASES) >= 4


@pytest.mark.parametrize(("query", "param"), STRING_CASES, ids=[f"{q.name}.{p}" for q, p in STRING_CASES])
def test_string_parameters_take_payloads_as_one_literal(graph: KnowledgeGraph, query, param: str) -> None:
    benign = "zz-no-such-value"
    reference_text, reference_bindings = query.render({param: benign})
    reference = graph.query(reference_text, reference_bindings or None)
    assert len(reference) == 0  # a literal that names nothing answers nothing
    for payload in PAYLOADS:
        text, bindings = query.render({param: payload})
        # the payload changed one token only: the escaped literal where the benign one was
        assert text.replace(nt(Literal(payload)), nt(Literal(benign))) == reference_text
        prepareQuery(text)  # and an independent parser (rdflib) reads the same query structure
        answer = graph.query(text, bindings or None)
        assert list(answer.columns) == list(reference.columns)
        assert len(answer) == 0, f"{query.name}.{param} returned rows for {payload!r}"


@pytest.mark.parametrize(("query", "param"), IRI_CASES, ids=[f"{q.name}.{p}" for q, p in IRI_CASES])
def test_iri_parameters_refuse_payloads(graph: KnowledgeGraph, query, param: str) -> None:
    for payload in IRI_PAYLOADS:
        with pytest.raises(UnknownQuery):
            graph.ask(query.name, **{param: payload})


def test_bindings_through_the_where_group_values_block_are_literals_too(graph: KnowledgeGraph) -> None:
    """A query without a #@params marker is bound by KnowledgeGraph.query's VALUES block."""
    sparql = "SELECT ?d WHERE { ?d rdfs:label ?label }"
    for payload in PAYLOADS:
        assert len(graph.query(sparql, {"label": payload})) == 0
    assert "http://id.nlm.nih.gov/mesh/D009369" in set(graph.query(sparql, {"label": Literal("Neoplasms", lang="en")})["d"])
