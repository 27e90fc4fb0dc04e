"""The demo: build the graph from the bundled sample data, show answers, serve it.

``make demo`` runs ``python -m examples.demo``. Every file it loads is in
``examples/data`` with its source and licence beside it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import KnowledgeGraph

__all__ = ["DATA", "SOURCES", "DemoSource", "build"]

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DemoSource:
    """One bundled file and how to load it."""

    path: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


SOURCES: tuple[DemoSource, ...] = (
    DemoSource("mesh/samples.nt", "rdf"),
)
"""What the demo loads, in order (references first, so later loaders can map onto them)."""


def build(kg: KnowledgeGraph, *, progress: Callable[[str], None] | None = None) -> list[Any]:
    """Load every bundled demo source into ``kg``; returns the load reports."""
    reports = []
    for source in SOURCES:
        if progress:
            progress(f"loading {source.path} ({source.kind})")
        reports.append(kg.load(DATA / source.path, kind=source.kind, **source.options))
    return reports


EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Neoplasms in MeSH and its tree numbers",
     "SELECT ?label ?tree WHERE { mesh:D009369 rdfs:label ?label ; meshv:treeNumber ?t . BIND(STRAFTER(STR(?t), STR(mesh:)) AS ?tree) }"),
)


def main(argv: list[str] | None = None) -> int:
    """Build the demo store, print example answers, then serve it over HTTP."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default="./igkg-data")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-serve", action="store_true", help="build and answer, do not serve")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with KnowledgeGraph(args.store) as kg:
        for report in build(kg, progress=lambda text: print(text, file=sys.stderr)):
            print(report.summary())
        for title, query in EXAMPLES:
            print(f"\n== {title}")
            print(kg.query(query).to_string(index=False))
        stats = kg.stats()
        print(f"\nstore {args.store}: {stats.triples} triples in {len(stats.graphs)} graphs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
