"""The query layer: parameters bound by the engine, PREFIX completion, results as DataFrames,
and the named queries of ``queries/*.rq``. It runs on anything with ``query(sparql, bindings)``.
"""

from __future__ import annotations

from kg.query.binding import bind_values
from kg.query.named import NamedQuery, Param, get_query, load_queries, parse_named_query, run_named_query
from kg.query.prefixes import with_prefixes
from kg.query.results import solutions_to_dataframe, triples_to_graph

__all__ = [
    "NamedQuery",
    "Param",
    "bind_values",
    "get_query",
    "load_queries",
    "parse_named_query",
    "run_named_query",
    "solutions_to_dataframe",
    "triples_to_graph",
    "with_prefixes",
]
