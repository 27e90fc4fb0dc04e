"""``python -m bench``: generate the graphs, run every step, print and write the results.

    python -m bench                      # 100k, 1M and 10M triples
    python -m bench --sizes 100k,1M
    python -m bench --quick              # 100k only: a smoke run

Writes ``bench/results/latest.md``, ``latest.png`` and ``latest.json`` (``--out`` to change).
Missed targets are printed as MISSED; ``--strict`` also exits 1 then.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from bench import Row, workdir
from bench.bench_queries import bench_named_queries, named_queries, run_rdflib
from bench.bench_results import bench_dataframe
from bench.bench_store import RDFLIB_MAX, bench_load
from bench.generate import generate, parse_size, size_label
from bench.report import machine, plot, summary_lines, write_json, write_markdown

OPTIONAL_STEPS = ("bench_associations", "bench_columnar", "bench_endpoint", "bench_extraction", "bench_gwas", "bench_reference", "bench_stats")
SEED = 42


def _say(text: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


def _graph_file(folder: Path, triples: int) -> tuple[Path, dict[str, Any]]:
    """The generated file for a size, made once per seed and generator version."""
    label = size_label(triples)
    path = folder / f"graph-{label}-seed{SEED}.nt"
    meta = path.with_suffix(".json")
    generator = Path(__file__).with_name("generate.py").stat().st_mtime_ns
    if path.exists() and meta.exists():
        shape = json.loads(meta.read_text())
        if shape.get("_generator") == generator:
            return path, shape
    _say(f"generating {label} triples -> {path}")
    shape = generate(path, triples, seed=SEED).to_dict()
    shape["_generator"] = generator
    meta.write_text(json.dumps(shape))
    return path, shape


def _optional_steps(quick: bool, context: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name in OPTIONAL_STEPS:
        section = name.removeprefix("bench_")
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                rows.append(Row(section=section, metric="step", note=f"not available: cannot import {exc.name}"))
            else:
                rows.append(Row(section=section, metric="step", note=f"not available (bench/{name}.py is not in this tree)"))
            continue
        run = getattr(module, "run", None)
        if run is None:
            rows.append(Row(section=section, metric="step", note=f"not available (bench/{name}.py has no run())"))
            continue
        accepted = inspect.signature(run).parameters
        kwargs = {k: v for k, v in {"quick": quick, **context}.items() if k in accepted}
        _say(f"running bench/{name}.py")
        try:
            produced = run(**kwargs)
        except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
            rows.append(Row(section=section, metric="step", ok=False, note=f"failed: {type(exc).__name__}: {exc}"[:300]))
            continue
        for item in produced if isinstance(produced, list) else [produced]:
            if isinstance(item, Row):
                rows.append(item)
            elif isinstance(item, dict):
                known = {k: v for k, v in item.items() if k in Row.__dataclass_fields__}
                other = {k: v for k, v in item.items() if k not in Row.__dataclass_fields__}
                known.setdefault("section", section)
                known.setdefault("metric", "result")
                if other:
                    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in other.items())
                    known["note"] = (str(known.get("note") or "") + "; " if known.get("note") else "") + shown
                    known.setdefault("extra", other)
                rows.append(Row(**known))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench", description="igkg benchmark suite")
    parser.add_argument("--sizes", default="100k,1M,10M", help="graph sizes in triples (default 100k,1M,10M)")
    parser.add_argument("--quick", action="store_true", help="100k only, a smoke run")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"), help="results folder")
    parser.add_argument("--skip-optional", action="store_true", help="skip the steps other modules provide")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sizes = [100_000] if args.quick else sorted(parse_size(s) for s in args.sizes.split(","))
    started = time.perf_counter()
    folder = workdir()
    info = machine()
    _say(f"{info['cpu']}, {info['cores']} cores, {info['ram']}; work folder {folder}")

    files: dict[str, tuple[Path, int]] = {}
    shapes: dict[str, Any] = {}
    for n in sizes:
        path, shape = _graph_file(folder, n)
        label = size_label(n)
        files[label] = (path, shape["triples"])
        shapes[label] = shape

    _say("load: igkg vs pyoxigraph bulk_load vs rdflib (one child process each)")
    rows, load = bench_load(files, folder)

    queries = named_queries()
    _say(f"{len(queries)} named queries without required parameters: {', '.join(queries) or 'none'}")
    from kg import KnowledgeGraph

    check_size = "1M" if "1M" in files else max(files, key=lambda k: files[k][1])
    for label, (path, triples) in files.items():
        rdflib_figures = None
        if parse_size(label) <= RDFLIB_MAX:
            _say(f"rdflib at {label}: parse, {len(queries)} queries, result iteration")
            rdflib_figures = run_rdflib(path, queries, folder, timeout=3600)
        store = folder / f"igkg-{label}"
        _say(f"igkg at {label}: named queries and DataFrame rows/s")
        kg = KnowledgeGraph(store, read_only=True)
        try:
            rows += bench_named_queries(kg, label, queries, rdflib_figures, check=(label == check_size))
            rows += bench_dataframe(kg, label, (rdflib_figures or {}).get("results") if rdflib_figures else None)
        finally:
            kg.close()

    if not args.skip_optional:
        # The smallest graph: the endpoint step serves it from rdflib-endpoint too, which
        # cannot hold the large ones (a 10M file did not come up within 120 s).
        smallest = min(files, key=lambda k: files[k][1])
        rows += _optional_steps(
            args.quick,
            {"store": folder / f"igkg-{smallest}", "data": files[smallest][0], "workdir": folder},
        )

    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    write_markdown(args.out / "latest.md", rows, info, shapes, seconds)
    write_json(args.out / "latest.json", rows, info, shapes, load)
    try:
        plot(args.out / "latest.png", load, shapes)
    except ImportError:
        _say("matplotlib is not installed (pip install -e '.[bench]'): no PNG written")
    for line in summary_lines(rows):
        sys.stdout.write(line + "\n")
    missed = [r for r in rows if r.ok is False]
    for r in missed:
        sys.stdout.write(f"MISSED: {r.section} / {r.metric} at {r.size}: {r.target}\n")
    sys.stdout.write(f"{len(missed)} target(s) missed; results in {args.out}/latest.md ({seconds / 60:.1f} min)\n")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())
