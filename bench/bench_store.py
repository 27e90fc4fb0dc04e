"""Load throughput and peak RSS: ``igkg load`` vs raw ``pyoxigraph.Store.bulk_load`` vs rdflib ``Graph.parse``.

Each contender loads the same generated N-Triples file in its own child process (on-disk
stores for igkg and pyoxigraph, rdflib in memory, as people use them). rdflib is measured
up to ``RDFLIB_MAX`` triples and extrapolated linearly above (marked so in the table).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import Row, emit, peak_rss_self, run_child
from bench.generate import parse_size

__all__ = ["RDFLIB_MAX", "bench_load", "child"]

RDFLIB_MAX = 1_000_000
"""Above this nominal size (``--sizes`` label) rdflib's time and memory are extrapolated, not measured."""


def child(contender: str, source: str, folder: str) -> None:
    """Load ``source`` with one contender and print its timing (runs in a child process)."""
    import pyoxigraph as ox

    target = Path(folder)
    shutil.rmtree(target, ignore_errors=True)
    if contender == "igkg":
        from kg import KnowledgeGraph

        graph = KnowledgeGraph(target)
        started = time.perf_counter()
        report = graph.load(source, kind="rdf")
        seconds = time.perf_counter() - started
        graph.close()
        emit(seconds=seconds, triples=report.triples, rss_after_load=peak_rss_self())
    elif contender == "pyoxigraph":
        store = ox.Store(str(target))
        started = time.perf_counter()
        store.bulk_load(path=source, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:x-bench:g"))
        store.flush()
        seconds = time.perf_counter() - started
        emit(seconds=seconds, triples=len(store), rss_after_load=peak_rss_self())
    elif contender == "rdflib":
        from rdflib import Graph

        graph = Graph()
        started = time.perf_counter()
        graph.parse(source, format="nt")
        seconds = time.perf_counter() - started
        emit(seconds=seconds, triples=len(graph), rss_after_load=peak_rss_self())
    else:
        raise SystemExit(f"unknown contender {contender!r}")


def bench_load(files: dict[str, tuple[Path, int]], folder: Path, *, timeout: float = 3600) -> tuple[list[Row], dict[str, Any]]:
    """Rows for every size; ``files`` maps a size label to (file, triples). Also returns raw figures."""
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    measured_rdflib: tuple[int, float, int] | None = None
    for label, (path, triples) in files.items():
        figures: dict[str, dict[str, Any]] = {}
        for contender in ("pyoxigraph", "igkg", "rdflib"):
            if contender == "rdflib" and parse_size(label) > RDFLIB_MAX:
                if measured_rdflib is None:
                    figures[contender] = {"seconds": None, "rss": None, "note": "not measured"}
                    continue
                n0, s0, r0 = measured_rdflib
                figures[contender] = {
                    "seconds": s0 * triples / n0,
                    "rss": r0 * triples / n0,
                    "note": f"extrapolated linearly from {n0:,} triples (not run: too slow/large)",
                    "extrapolated": True,
                }
                continue
            result = run_child(
                ["bench.bench_store", "child", contender, str(path), str(folder / f"{contender}-{label}")], timeout=timeout
            )
            if result.returncode != 0 or "seconds" not in result.data:
                figures[contender] = {"seconds": None, "rss": result.peak_rss, "note": f"failed: {result.stderr[-300:]}"}
                continue
            figures[contender] = {"seconds": result.data["seconds"], "rss": result.peak_rss, "triples": result.data["triples"]}
            if contender == "rdflib":
                measured_rdflib = (triples, result.data["seconds"], result.peak_rss)
        raw[label] = figures
        ox_s, kg_s, rl = figures["pyoxigraph"]["seconds"], figures["igkg"]["seconds"], figures["rdflib"]
        def rate(seconds: float | None, n: int = triples) -> float | None:
            return n / seconds if seconds else None

        rows.append(
            Row(
                section="load",
                metric="load throughput vs raw bulk_load",
                size=label,
                igkg=rate(kg_s),
                baseline=rate(ox_s),
                baseline_name="pyoxigraph bulk_load",
                unit="triples/s",
                ratio=(ox_s / kg_s) if ox_s and kg_s else None,
                target="igkg time <= 1.3x bulk_load",
                ok=(kg_s <= 1.3 * ox_s) if ox_s and kg_s else None,
                extra={"igkg_rss": figures["igkg"]["rss"], "baseline_rss": figures["pyoxigraph"]["rss"]},
            )
        )
        rows.append(
            Row(
                section="load",
                metric="load throughput vs rdflib Graph.parse",
                size=label,
                igkg=rate(kg_s),
                baseline=rate(rl["seconds"]),
                baseline_name="rdflib Graph.parse",
                unit="triples/s",
                ratio=(rl["seconds"] / kg_s) if rl["seconds"] and kg_s else None,
                target="",  # the ">= 8x rdflib" target is retired (issue 13): matrices go to the data plane
                ok=None,
                note=rl.get("note", ""),
                extra={"igkg_rss": figures["igkg"]["rss"], "baseline_rss": rl["rss"]},
            )
        )
        rss = figures["igkg"]["rss"]
        rows.append(
            Row(
                section="load",
                metric="peak RSS of igkg load",
                size=label,
                igkg=rss / 2**20 if rss else None,
                baseline=(rl["rss"] / 2**20) if rl["rss"] else None,
                baseline_name="rdflib Graph.parse" + (" (extrapolated)" if rl.get("extrapolated") else ""),
                unit="MiB",
                ratio=(rl["rss"] / rss) if rss and rl["rss"] else None,
                target="< 4 GiB at 10M" if parse_size(label) >= 10_000_000 else "",
                ok=(rss < 4 * 2**30) if parse_size(label) >= 10_000_000 and rss else None,
            )
        )
    return rows, raw


if __name__ == "__main__":
    if sys.argv[1] == "child":
        child(*sys.argv[2:5])
