"""Query results in the shapes people use: SELECT as a DataFrame, CONSTRUCT as an rdflib Graph.

>>> import pyoxigraph as ox
>>> store = ox.Store()
>>> solutions_to_dataframe(store.query("SELECT ?n WHERE { VALUES ?n { 1 2 } }"))["n"].tolist()
[1, 2]
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pyoxigraph as ox
from rdflib import Graph

from kg.core.namespaces import PREFIXES

__all__ = ["solutions_to_dataframe", "triples_to_graph"]


def solutions_to_dataframe(solutions: ox.QuerySolutions) -> pd.DataFrame:
    """SELECT results as a DataFrame: IRIs and strings as text, numbers as numbers.

    Always a DataFrame, one row per solution: with no solutions it has the query's columns
    and no rows; with no variables (``SELECT * WHERE { }``) it has rows and no columns.

    Goes through Oxigraph's CSV writer and pandas' C parser, the fastest path measured.

    >>> import pyoxigraph as ox
    >>> solutions_to_dataframe(ox.Store().query("SELECT ?n WHERE { VALUES ?n { 1 2 } }"))["n"].tolist()
    [1, 2]
    """
    columns = [v.value for v in solutions.variables]
    data = solutions.serialize(format=ox.QueryResultsFormat.CSV)
    rows = max(data.count(b"\n") - 1, 0) if data else 0
    if not columns:  # SELECT * over a pattern without variables: rows without columns
        return pd.DataFrame(index=pd.RangeIndex(rows))
    if rows == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    # A solution binding nothing is an empty CSV line: keep it as a row of missing values.
    return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""], low_memory=False, skip_blank_lines=False)


def triples_to_graph(triples: Any) -> Graph:
    """The triples of a CONSTRUCT/DESCRIBE result (anything ``pyoxigraph.serialize`` takes) as an
    rdflib ``Graph`` with igkg's prefixes bound.

    >>> import pyoxigraph as ox
    >>> len(triples_to_graph(ox.Store().query("CONSTRUCT { <urn:a> <urn:b> 1 } WHERE { }")))
    1
    """
    graph = Graph()
    for prefix, uri in PREFIXES.items():
        graph.bind(prefix, uri)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph
