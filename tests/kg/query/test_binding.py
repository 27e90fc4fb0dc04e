"""Bound parameters mean what rdflib's ``initBindings`` mean: visible to the WHERE group's
FILTERs and aggregates, on real MeSH RDF, checked against rdflib on the same triples."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib import Literal, URIRef

from kg import KnowledgeGraph
from kg.query.binding import bind_values

PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>  # a comment with { braces } and WHERE
PREFIX meshv: <http://id.nlm.nih.gov/mesh/vocab#>
"""

CASES = [
    (  # a parameter used only in a FILTER
        "SELECT ?d WHERE { ?d rdfs:label ?l FILTER(STR(?l) = ?name) }",
        {"name": Literal("Neoplasms")},
    ),
    (  # an aggregate over the group: the VALUES must restrict the rows counted
        "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t meshv:parentTreeNumber ?parent }",
        {"parent": URIRef("http://id.nlm.nih.gov/mesh/V02")},
    ),
    (  # braces and the keyword in strings and a projected expression before the group
        'SELECT ?d ("} WHERE {" AS ?x) { ?d rdfs:label ?l FILTER(CONTAINS(STR(?l), ?part)) } ORDER BY ?d',
        {"part": Literal("Neoplasm")},
    ),
    (  # a BIND that reads the parameter
        "SELECT ?d ?twice WHERE { ?d rdfs:label ?l FILTER(STR(?l) = ?name) BIND(CONCAT(?name, ?name) AS ?twice) }",
        {"name": Literal("Neoplasms")},
    ),
]


@pytest.fixture(scope="module")
def graphs(shared_data: Path) -> tuple[KnowledgeGraph, rdflib.Graph]:
    source = shared_data / "mesh/samples.nt"
    kg = KnowledgeGraph(None)
    kg.load(source, kind="rdf")
    reference = rdflib.Graph()
    reference.parse(source, format="nt")
    return kg, reference


def _rows(result: object) -> set[tuple[str, ...]]:
    return {tuple("" if v is None else str(v) for v in row) for row in result}  # type: ignore[attr-defined]


@pytest.mark.parametrize("body,bindings", CASES)
def test_bindings_agree_with_rdflib_init_bindings(graphs, body: str, bindings: dict) -> None:
    kg, reference = graphs
    sparql = PREFIXES + body
    expected = _rows(reference.query(sparql, initBindings=bindings))
    got = kg.query(sparql, bindings)
    assert expected and all(any(cell and cell != "0" for cell in row) for row in expected)  # the case is not empty
    assert _rows(got.itertuples(index=False)) == expected


def test_construct_binds_in_its_where_group_not_its_template(graphs) -> None:
    kg, reference = graphs
    sparql = PREFIXES + "CONSTRUCT { ?d rdfs:comment ?name } WHERE { ?d rdfs:label ?l FILTER(STR(?l) = ?name) }"
    bindings = {"name": Literal("Neoplasms")}
    assert "VALUES" in bind_values(sparql, bindings).split("WHERE {", 1)[1]
    expected = set(reference.query(sparql, initBindings=bindings))
    got = set(kg.query(sparql, bindings))
    assert expected and got == expected
