"""Median latency of every named query (``queries/*.rq``, found at run time) vs plain rdflib.

igkg answers with ``KnowledgeGraph.ask`` (or ``run_named_query``) on the on-disk store the
load step built; rdflib answers the very same SPARQL text (bindings written as the same
VALUES clause) over an in-memory ``Graph`` parsed from the same file, in a child process
that also times result iteration for ``bench_results``. An rdflib query running past
``QUERY_TIMEOUT`` is stopped and its ratio reported as a lower bound.
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import Row, emit, peak_rss_self, run_child

__all__ = ["QUERY_TIMEOUT", "bench_named_queries", "named_queries", "rdflib_child"]

QUERY_TIMEOUT = 120
"""Seconds one rdflib query may run before it is stopped."""


def named_queries() -> dict[str, str]:
    """name -> final SPARQL text (defaults bound) of every named query that needs no argument."""
    try:
        from kg.query.named import load_queries
    except ImportError:
        return {}
    from kg.query.binding import bind_values

    found = {}
    for name, query in load_queries().items():
        if any(p.required for p in query.params):
            continue
        text, bindings = query.render({})
        found[name] = bind_values(text, bindings or None)
    return found


def _median_time(run: Any, *, runs: int, budget: float) -> tuple[float, int]:
    times: list[float] = []
    rows = 0
    while len(times) < runs:
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
        rows = len(result) if hasattr(result, "__len__") else 1
        if sum(times) > budget:
            break
    return statistics.median(times), rows


class _Timeout(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Timeout


def rdflib_child(source: str, queries_file: str) -> None:
    """Parse ``source`` into an rdflib Graph, time each query and the result iteration (child)."""
    from rdflib import Graph

    from bench.bench_results import rdflib_rows
    from kg.core.namespaces import PREFIXES

    queries = json.loads(Path(queries_file).read_text())
    graph = Graph()
    started = time.perf_counter()
    graph.parse(source, format="nt")
    emit(parse_seconds=time.perf_counter() - started, triples=len(graph), rss_after_parse=peak_rss_self())
    signal.signal(signal.SIGALRM, _alarm)
    for name, text in queries.items():
        signal.alarm(QUERY_TIMEOUT)
        try:
            seconds, rows = _median_time(lambda t=text: list(graph.query(t, initNs=PREFIXES)), runs=3, budget=20)
            emit(**{f"query:{name}": {"seconds": seconds, "rows": rows}})
        except _Timeout:
            emit(**{f"query:{name}": {"seconds": None, "timeout": QUERY_TIMEOUT}})
        except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
            emit(**{f"query:{name}": {"seconds": None, "error": f"{type(exc).__name__}: {exc}"[:300]}})
        finally:
            signal.alarm(0)
    signal.alarm(QUERY_TIMEOUT * 2)
    try:
        emit(results=rdflib_rows(graph, PREFIXES))
    except _Timeout:
        emit(results={"seconds": None, "timeout": QUERY_TIMEOUT * 2})
    finally:
        signal.alarm(0)


def run_rdflib(source: Path, queries: dict[str, str], folder: Path, *, timeout: float) -> dict[str, Any]:
    """Run ``rdflib_child`` and return what it reported."""
    queries_file = folder / "queries.json"
    queries_file.write_text(json.dumps(queries))
    result = run_child(["bench.bench_queries", "rdflib", str(source), str(queries_file)], timeout=timeout)
    data = dict(result.data)
    data["peak_rss"] = result.peak_rss
    if result.returncode != 0 and not result.timed_out:
        data["error"] = result.stderr[-500:]
    return data


def bench_named_queries(kg: Any, label: str, queries: dict[str, str], rdflib: dict[str, Any] | None, *, check: bool) -> list[Row]:
    """One row per named query: igkg median vs rdflib's; ``check`` applies the >= 5x target."""
    from kg.query.named import run_named_query

    rows = []
    ask = getattr(kg, "ask", None)
    for name in queries:
        seconds, count = _median_time(
            (lambda n=name: ask(n)) if ask else (lambda n=name: run_named_query(kg, n)), runs=5, budget=30
        )
        theirs = (rdflib or {}).get(f"query:{name}", {})
        baseline = theirs.get("seconds")
        note = ""
        ratio = None
        if baseline:
            ratio = baseline / seconds if seconds else None
            if theirs.get("rows") != count:
                note = f"rows: igkg {count}, rdflib {theirs.get('rows')}"
        elif "timeout" in theirs:
            ratio = theirs["timeout"] / seconds if seconds else None
            note = f"rdflib stopped after {theirs['timeout']} s: ratio is a lower bound"
        elif "error" in theirs:
            note = f"rdflib failed: {theirs['error']}"
        elif rdflib is None:
            note = "rdflib not run at this size"
        rows.append(
            Row(
                section="queries",
                metric=f"named query {name} ({count} rows)",
                size=label,
                igkg=seconds * 1000,
                baseline=baseline * 1000 if baseline else None,
                baseline_name="rdflib in memory",
                unit="ms (median)",
                ratio=ratio,
                target=">= 5x rdflib at 1M" if check else "",
                ok=(ratio >= 5) if check and ratio else None,
                note=note,
            )
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "rdflib":
        rdflib_child(sys.argv[2], sys.argv[3])
