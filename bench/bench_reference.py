"""Benchmark: reference loaders at full size against plain rdflib parsing of the same triples.

Synthesises (deterministic seed) an HGNC complete set of ~45k rows in the shape of the
real sample (its header, its cells, ragged rows, pipe lists) and a GO-size OBO file
(~45k terms with is_a, part_of, synonyms, xrefs, some obsolete), loads each with
``KnowledgeGraph(None).load`` and reports records/s and peak RSS; then exports the loaded
graph to N-Triples and parses that with rdflib's ``Graph.parse`` as the baseline. Each
measurement runs in its own process, so peak RSS is that step's own.

    python -m bench.bench_reference            # 45,000 records each
    python -m bench.bench_reference 5000 45000
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["run", "synthesise_hgnc", "synthesise_obo"]

SHARED = Path(os.environ.get("IGKG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SAMPLE = SHARED / "genes" / "scout_hgnc_reduced_set.txt"


def synthesise_hgnc(path: Path, rows: int, seed: int = 3) -> Path:
    """Write an HGNC complete set of ``rows`` genes modelled on the real sample's rows."""
    rng = random.Random(seed)
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        templates = [r for r in reader if r]
    col = {name: i for i, name in enumerate(header)}
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\t".join(header) + "\n")
        for n in range(rows):
            row = list(rng.choice(templates))
            row += [""] * (len(header) - len(row))
            row = row[: len(header)]
            row[col["hgnc_id"]] = f"HGNC:{n + 1}"
            row[col["symbol"]] = f"G{n + 1}"
            row[col["entrez_id"]] = str(100000 + n) if rng.random() > 0.02 else ""
            row[col["ensembl_gene_id"]] = f"ENSG{n + 1:011d}" if rng.random() > 0.1 else ""
            row[col["alias_symbol"]] = "|".join(f"A{rng.randrange(rows * 2)}" for _ in range(rng.randrange(4)))
            row[col["prev_symbol"]] = "|".join(f"P{n}_{k}" for k in range(rng.randrange(3)))
            while row and row[-1] == "":
                row.pop()  # HGNC's ragged rows
            out.write("\t".join(f'"{c}"' if "|" in c else c for c in row) + "\n")
    return path


def synthesise_obo(path: Path, terms: int, seed: int = 3) -> Path:
    """Write a GO-shaped OBO file of ``terms`` terms (is_a, part_of, synonyms, xrefs, obsolete)."""
    rng = random.Random(seed)
    spaces = ("biological_process", "molecular_function", "cellular_component")
    with open(path, "w", encoding="utf-8") as out:
        out.write("format-version: 1.2\ndata-version: releases/bench\nontology: go\n\n")
        for n in range(1, terms + 1):
            out.write(f"[Term]\nid: GO:{n:07d}\nname: synthetic term {n}\nnamespace: {spaces[n % 3]}\n")
            out.write(f'def: "A synthetic term number {n} for the benchmark." [GOC:bench]\n')
            out.write(f'synonym: "term {n} synonym" EXACT []\n')
            if n % 50 == 0:
                out.write("is_obsolete: true\n\n")
                continue
            for parent in {rng.randrange(1, n) for _ in range(rng.randrange(1, 3))} if n > 1 else ():
                out.write(f"is_a: GO:{parent:07d}\n")
            if n > 10 and rng.random() < 0.3:
                out.write(f"relationship: part_of GO:{rng.randrange(1, n):07d}\n")
            if rng.random() < 0.2:
                out.write(f"xref: Reactome:R-HSA-{rng.randrange(10**6)}\n")
            out.write("\n")
    return path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load(path: str, kind: str, export: str) -> dict[str, Any]:
    from kg import KnowledgeGraph

    kg = KnowledgeGraph(None)
    started = time.perf_counter()
    report = kg.load(path, kind=kind)
    seconds = time.perf_counter() - started
    graph = report.graph
    kg.export(export, format="ntriples", graph=graph)
    return {"seconds": seconds, "records": report.records_read, "triples": report.triples, "peak_rss_mb": _peak_mb()}


def _rdflib(export: str) -> dict[str, Any]:
    from rdflib import Graph

    started = time.perf_counter()
    graph = Graph().parse(export, format="nt")
    return {"seconds": time.perf_counter() - started, "triples": len(graph), "peak_rss_mb": _peak_mb()}


def _in_child(function: Any, *args: Any) -> dict[str, Any]:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def run(sizes: list[int] | tuple[int, ...] = (45_000,)) -> list[dict[str, Any]]:
    """Benchmark the ``hgnc`` and ``obo`` loaders at each size; one row per (source, size, engine)."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="igkg-bench-") as tmp:
        for size in sizes:
            for source, kind, make in (("hgnc", "hgnc", synthesise_hgnc), ("go-obo", "obo", synthesise_obo)):
                suffix = ".txt" if kind == "hgnc" else ".obo"
                data = make(Path(tmp) / f"{source}_{size}{suffix}", size)
                export = str(Path(tmp) / f"{source}_{size}.nt")
                ours = _in_child(_load, str(data), kind, export)
                base = _in_child(_rdflib, export)
                rows.append({"source": source, "size": size, "engine": f"igkg load ({kind})", "records": ours["records"],
                             "triples": ours["triples"], "seconds": round(ours["seconds"], 3),
                             "records_per_s": round(ours["records"] / ours["seconds"]), "peak_rss_mb": round(ours["peak_rss_mb"], 1)})
                rows.append({"source": source, "size": size, "engine": "rdflib Graph.parse (nt)", "records": ours["records"],
                             "triples": base["triples"], "seconds": round(base["seconds"], 3),
                             "records_per_s": round(ours["records"] / base["seconds"]), "peak_rss_mb": round(base["peak_rss_mb"], 1)})
    return rows


def main(argv: list[str]) -> None:
    """Print the benchmark table."""
    sizes = [int(a) for a in argv] or [45_000]
    rows = run(sizes)
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))  # noqa: T201 - a command-line report
    for row in rows:
        print("  ".join(str(row[k]).ljust(widths[k]) for k in keys))  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1:])
