"""Loopback load test of the SPARQL endpoint: igkg beside rdflib-endpoint on the same data.

Both servers run as child processes on 127.0.0.1 (igkg: ``igkg serve`` over an on-disk
store; rdflib-endpoint: its ``SparqlEndpoint`` app over an in-memory rdflib graph, as its
README serves it). A bounded load: a fixed number of requests sent by several concurrent
httpx clients, cycling through a small query mix (a lookup, a join, an aggregate). Prints
requests/s and p50/p99 latency per server and query; ``run()`` returns the rows.

    python -m bench.bench_endpoint --requests 400 --clients 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["QUERIES", "run"]

QUERIES: dict[str, str] = {
    "lookup": "SELECT ?label WHERE { <http://id.nlm.nih.gov/mesh/D009369> <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
    "join": (
        "SELECT ?d ?label ?tn WHERE { ?d <http://id.nlm.nih.gov/mesh/vocab#treeNumber> ?tn . "
        "?d <http://www.w3.org/2000/01/rdf-schema#label> ?label } LIMIT 100"
    ),
    "aggregate": "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)",
}
"""The query mix: each request sends the next one in turn."""

_RDFLIB_SERVER = """
import sys, uvicorn
from rdflib import Graph
from rdflib_endpoint import SparqlEndpoint
graph = Graph()
graph.parse(sys.argv[1], format="nt")
app = SparqlEndpoint(graph=graph, path="/sparql", cors_enabled=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _shared_data() -> Path:
    root = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("IGKG_SHARED_DATA", root.parent / "shared" / "data"))


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            response = httpx.get(url, params={"query": "ASK { ?s ?p ?o }"},
                                 headers={"Accept": "application/sparql-results+json"}, timeout=5)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


async def _load(url: str, requests: int, clients: int) -> tuple[float, dict[str, list[float]], int]:
    names = list(QUERIES)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors = 0
    counter = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        for index in counter:
            name = names[index % len(names)]
            started = time.perf_counter()
            response = await http.post(url, data={"query": QUERIES[name]},
                                       headers={"Accept": "application/sparql-results+json"})
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                errors += 1
            latencies[name].append(elapsed)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - started
    return wall, latencies, errors


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _rows(server: str, wall: float, latencies: dict[str, list[float]], errors: int, requests: int, clients: int) -> list[dict[str, Any]]:
    every = [x for values in latencies.values() for x in values]
    rows = [{
        "bench": "endpoint", "server": server, "query": "all", "requests": requests, "clients": clients,
        "errors": errors, "requests_per_s": requests / wall,
        "p50_ms": _percentile(every, 50) * 1000, "p99_ms": _percentile(every, 99) * 1000,
    }]
    for name, values in latencies.items():
        rows.append({
            "bench": "endpoint", "server": server, "query": name, "requests": len(values), "clients": clients,
            "errors": None, "requests_per_s": None,
            "p50_ms": _percentile(values, 50) * 1000, "p99_ms": _percentile(values, 99) * 1000,
        })
    return rows


def run(
    *,
    requests: int = 400,
    clients: int = 8,
    data: str | os.PathLike[str] | None = None,
    workers: int = 2,
) -> list[dict[str, Any]]:
    """Load-test igkg's endpoint and rdflib-endpoint on the same N-Triples file; one row per server and query."""
    source = Path(data) if data is not None else _shared_data() / "mesh" / "samples.nt"
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing (set IGKG_SHARED_DATA or pass data=)")
    folder = Path(tempfile.mkdtemp(prefix="igkg-bench-endpoint-"))
    rows: list[dict[str, Any]] = []
    try:
        from kg import KnowledgeGraph

        with KnowledgeGraph(folder / "store") as kg:
            kg.load(source, kind="rdf")
        servers = {
            "igkg": [sys.executable, "-c", "from kg.cli import main; main()", "--store", str(folder / "store"), "serve",
                     "--workers", str(workers), "--max-rows", "100000"],
            "rdflib-endpoint": [sys.executable, "-c", _RDFLIB_SERVER, str(source)],
        }
        for server, command in servers.items():
            port = _free_port()
            command = [*command, "--port", str(port)] if server == "igkg" else [*command, str(port)]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            url = f"http://127.0.0.1:{port}/sparql"
            try:
                _wait_ready(url, process)
                asyncio.run(_load(url, min(requests, 3 * clients), clients))  # warm-up
                wall, latencies, errors = asyncio.run(_load(url, requests, clients))
                rows += _rows(server, wall, latencies, errors, requests, clients)
            finally:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    print(f"{'server':16s} {'query':10s} {'requests':>8s} {'errors':>6s} {'req/s':>9s} {'p50 ms':>9s} {'p99 ms':>9s}")
    for row in rows:
        rps = f"{row['requests_per_s']:9.1f}" if row["requests_per_s"] is not None else f"{'':9s}"
        errors = "" if row["errors"] is None else str(row["errors"])
        print(f"{row['server']:16s} {row['query']:10s} {row['requests']:8d} {errors:>6s} {rps} "
              f"{row['p50_ms']:9.2f} {row['p99_ms']:9.2f}")


def main() -> None:
    """Command-line entry: ``python -m bench.bench_endpoint [--requests N] [--clients C] [--data FILE.nt]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", default=None, help="An N-Triples file (default: the MeSH sample of ../shared/data).")
    args = parser.parse_args()
    _print(run(requests=args.requests, clients=args.clients, data=args.data, workers=args.workers))


if __name__ == "__main__":
    main()
