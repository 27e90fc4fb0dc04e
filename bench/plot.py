"""Cost against size from benchmark results: load, named queries and associations, one PNG.

``python -m bench.plot [RESULTS.json ...] --output docs/img/bench.png`` reads the JSON that
``make bench`` writes (default: every ``bench/results/*.json``; a later file's measurement of
the same thing replaces an earlier one's) and draws three panels, log-log:

- load: seconds against triples for ``igkg load``, pyoxigraph ``bulk_load`` and rdflib;
- queries: the median latency of each named query against the graph's triples (igkg solid,
  rdflib in memory dotted where it ran);
- associations: seconds against feature x gene pairs for igkg's Spearman + BH, the bare matrix
  product and a naive per-pair scipy loop.

The same results give the same bytes (no date in the file).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["cost_figure", "main", "read_results"]

RESULTS = Path(__file__).resolve().parent / "results"

_QUERY = re.compile(r"^named query (\S+)")
_SHAPE = re.compile(r"^(\d+)x(\d+)x(\d+)$")


def read_results(paths: Iterable[Path]) -> dict[str, Any]:
    """Merge benchmark JSON files (in the order given): ``shapes``, ``load`` and ``rows``.

    A row is keyed by (section, metric, size): a later file's row replaces an earlier one's.
    """
    shapes: dict[str, Any] = {}
    load: dict[str, Any] = {}
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        shapes.update(data.get("shapes", {}))
        for size, figures in data.get("load", {}).items():
            load.setdefault(size, {}).update(figures)
        for row in data.get("rows", []):
            rows[(str(row.get("section")), str(row.get("metric")), str(row.get("size")))] = row
    return {"shapes": shapes, "load": load, "rows": list(rows.values())}


def _triples(shapes: dict[str, Any], size: str) -> float | None:
    shape = shapes.get(size)
    return float(shape["triples"]) if isinstance(shape, dict) and "triples" in shape else None


def cost_figure(results: dict[str, Any]) -> Figure:
    """The three panels (load, queries, associations) of merged results (``read_results``)."""
    shapes, load, rows = results["shapes"], results["load"], results["rows"]
    fig = Figure(figsize=(13, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    left, middle, right = fig.subplots(1, 3)

    names = {"igkg": ("igkg load", "o-"), "pyoxigraph": ("pyoxigraph bulk_load", "s--"), "rdflib": ("rdflib Graph.parse", "^:")}
    for contender, (name, style) in names.items():
        points = sorted(
            (_triples(shapes, size), figures[contender]["seconds"], bool(figures[contender].get("extrapolated")))
            for size, figures in load.items()
            if figures.get(contender, {}).get("seconds") is not None and _triples(shapes, size)
        )
        if points:
            left.plot([p[0] for p in points], [p[1] for p in points], style, label=name)
            for x, y, extrapolated in points:
                if extrapolated:
                    left.annotate("extrapolated", (x, y), fontsize=7)
    left.set_title("load")
    left.set_ylabel("seconds")

    queries: dict[str, list[tuple[float, float, float | None]]] = {}
    for row in rows:
        match = _QUERY.match(str(row.get("metric", "")))
        x = _triples(shapes, str(row.get("size")))
        if row.get("section") == "queries" and match and x and row.get("igkg"):
            queries.setdefault(match.group(1), []).append((x, float(row["igkg"]), row.get("baseline")))
    for name in sorted(queries):
        points = sorted(queries[name])
        (line,) = middle.plot([p[0] for p in points], [p[1] for p in points], "o-", markersize=3, linewidth=1, label=name)
        rdflib = [(p[0], float(p[2])) for p in points if p[2]]
        if rdflib:
            middle.plot([p[0] for p in rdflib], [p[1] for p in rdflib], ":", color=line.get_color(), linewidth=1)
    middle.set_title("named queries (dotted: rdflib in memory)")
    middle.set_ylabel("median ms")
    middle.legend(fontsize=6, loc="upper left")

    for row in rows:
        shape = _SHAPE.match(str(row.get("size", "")))
        if row.get("section") != "associations" or not shape or row.get("unit") != "s":
            continue
        pairs = float(shape.group(1)) * float(shape.group(2))
        metric = str(row.get("metric"))
        if metric.startswith("Spearman"):
            right.plot([pairs], [float(row["igkg"])], "o", label=f"igkg Spearman + BH ({row['size']})")
            right.plot([pairs], [float(row["baseline"])], "s", label="bare matrix product")
        elif "naive" in metric and row.get("baseline"):
            right.plot([pairs], [float(row["baseline"])], "^", label="naive scipy loop (extrapolated)")
    right.set_title("associations")
    right.set_ylabel("seconds")
    right.set_xlabel("feature x gene pairs")

    for ax in (left, middle, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        if ax is not middle:
            ax.legend(fontsize=7)
    left.set_xlabel("triples")
    middle.set_xlabel("triples in the graph")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """Write the cost-against-size PNG from benchmark JSON files."""
    parser = argparse.ArgumentParser(description="Plot cost against size from bench/results/*.json.")
    parser.add_argument("results", nargs="*", type=Path, help="result files (default: bench/results/*.json)")
    parser.add_argument("--output", type=Path, default=RESULTS / "cost.png")
    args = parser.parse_args(argv)
    paths = args.results or sorted(RESULTS.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
    if not paths:
        parser.error(f"no benchmark results in {RESULTS}; run 'make bench' first")
    fig = cost_figure(read_results(paths))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, format="png", metadata={"Software": "igkg bench.plot"})
    print(f"{args.output}: cost against size from {len(paths)} result file(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
