"""SPARQL result -> pandas DataFrame: ``KnowledgeGraph.query`` vs iterating rdflib's result.

Both sides run the same SELECT over every feature measurement (one row per value) and
are timed from the query call to the last row in hand, so query evaluation is included
on both sides; igkg's rows arrive as a typed DataFrame (Oxigraph's CSV writer + pandas'
C parser), rdflib's as tuples of rdflib terms.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import Row

__all__ = ["CONVERSION_QUERY", "RESULTS_QUERY", "bench_dataframe", "rdflib_rows"]

RESULTS_QUERY = """SELECT ?measurement ?feature ?subject ?value WHERE {
  ?measurement a igkg:FeatureMeasurement ; igkg:feature ?feature ; igkg:subject ?subject ; igkg:value ?value .
}"""

CONVERSION_QUERY = "SELECT ?measurement ?value WHERE { ?measurement igkg:value ?value }"
"""A query whose evaluation is a single index scan, so that the time of turning its rows
into a DataFrame is not lost in the noise of evaluating a four-way join (Oxigraph's join
evaluation, not the conversion, dominates ``RESULTS_QUERY`` at 1M and more)."""


def bench_dataframe(kg: Any, label: str, rdflib_figures: dict[str, Any] | None, runs: int = 3) -> list[Row]:
    """Rows/s of ``kg.query`` (median of ``runs``) beside rdflib's figures from its child."""
    times, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        frame = kg.query(RESULTS_QUERY)
        times.append(time.perf_counter() - started)
        rows = len(frame)
    seconds = statistics.median(times)
    igkg_rate = rows / seconds if seconds else None
    # Conversion alone: a single-scan query to a DataFrame, minus iterating the same raw
    # result as pyoxigraph terms (the evaluation), medians of ``runs``.
    to_frame, iterate, scanned = [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        scanned = len(kg.query(CONVERSION_QUERY))
        to_frame.append(time.perf_counter() - started)
        started = time.perf_counter()
        for _row in kg.raw_query(CONVERSION_QUERY):
            pass
        iterate.append(time.perf_counter() - started)
    conversion = statistics.median(to_frame) - statistics.median(iterate)
    conversion_rate = scanned / conversion if conversion > 0 else None
    baseline = None
    note = ""
    if rdflib_figures and rdflib_figures.get("seconds"):
        baseline = rdflib_figures["rows"] / rdflib_figures["seconds"]
        if rdflib_figures["rows"] != rows:
            note = f"row counts differ: igkg {rows}, rdflib {rdflib_figures['rows']}"
    elif rdflib_figures is None:
        note = "rdflib not run at this size"
    return [
        Row(
            section="results",
            metric=f"SELECT -> DataFrame ({rows:,} rows)",
            size=label,
            igkg=igkg_rate,
            baseline=baseline,
            baseline_name="rdflib result iteration",
            unit="rows/s",
            ratio=(igkg_rate / baseline) if igkg_rate and baseline else None,
            target="",
            note=(note + "; " if note else "") + "query evaluation included on both sides",
        ),
        Row(
            section="results",
            metric=f"result -> DataFrame conversion alone ({scanned:,} rows; to DataFrame minus iterating the raw result)",
            size=label,
            igkg=conversion_rate,
            unit="rows/s",
            target=">= 500k rows/s",
            ok=(conversion_rate >= 500_000) if conversion_rate else None,
            note="" if conversion_rate else "conversion time within measurement noise",
        ),
    ]


def rdflib_rows(graph: Any, prefixes: dict[str, str]) -> dict[str, Any]:
    """Time rdflib answering ``RESULTS_QUERY`` and iterating every row (in the rdflib child)."""
    started = time.perf_counter()
    rows = [tuple(row) for row in graph.query(RESULTS_QUERY, initNs=prefixes)]
    return {"seconds": time.perf_counter() - started, "rows": len(rows)}
