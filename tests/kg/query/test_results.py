"""SELECT answers are DataFrames in every shape: no variables, no solutions, unbound values.

The expected shapes are the solution sequences Oxigraph itself returns for the same query
(``len(list(store.query(q)))`` solutions of ``len(variables)`` columns).
"""

from __future__ import annotations

import pandas as pd
import pyoxigraph as ox
import pytest

from kg import KnowledgeGraph

QUERIES = [
    "SELECT * WHERE { }",  # W3C property-path pp36's shape: one solution, no variables
    "SELECT * WHERE { VALUES () { () () () } }",
    "SELECT ?x WHERE { }",
    "SELECT ?x WHERE { FILTER(false) }",
    "SELECT * WHERE { ?s ?p ?o }",
    "SELECT ?x ?y WHERE { VALUES (?x ?y) { (1 UNDEF) (UNDEF UNDEF) (\"a,b\" 2) } }",
    "SELECT ?x WHERE { VALUES ?x { UNDEF UNDEF } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_every_select_is_a_dataframe_of_the_engines_shape(kg: KnowledgeGraph, query: str) -> None:
    reference = ox.Store().query(query)
    variables = [v.value for v in reference.variables]
    solutions = list(reference)
    frame = kg.query(query)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == variables
    assert len(frame) == len(solutions)
    for row, solution in zip(frame.to_dict("records"), solutions):
        for name in variables:
            value = solution[name]
            if value is None:
                assert pd.isna(row[name])
            else:
                assert str(row[name]) == value.value or float(row[name]) == float(value.value)
