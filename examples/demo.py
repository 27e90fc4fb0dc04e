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


NSCLC = "NSCLC-Radiogenomics"

SOURCES: tuple[DemoSource, ...] = (
    DemoSource("genes/scout_hgnc_reduced_set.txt", "hgnc"),
    DemoSource("genes/nsclc_markers.gene_info", "gene-info"),
    DemoSource("reactome", "reactome", {"species": "Homo sapiens"}),
    DemoSource("obo/oak_go-nucleus.obo", "obo"),
    DemoSource("obo/oak_mondo-sample-mappings.obo", "obo"),
    DemoSource("obo/oak_test-uniprot.gaf", "gaf"),
    DemoSource("mesh/samples.nt", "mesh-rdf"),
    DemoSource("mesh/desc-samples.xml", "mesh-xml"),
    DemoSource("nsclc/nsclc_radiogenomics_original_features.csv", "radiomics-csv", {"id_column": "Case ID", "cohort": NSCLC}),
    DemoSource("nsclc/nsclc_clinical_tcia.csv", "clinical", {"id_column": "Patient ID", "cohort": NSCLC}),
    DemoSource("pyradiomics/manifest.csv", "pyradiomics", {"params": str(Path(__file__).resolve().parent / "data" / "pyradiomics" / "Params.yaml")}),
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


def analyse(kg: KnowledgeGraph) -> Any:
    """The demo's radiogenomic analysis: every NSCLC feature against EGFR mutation status.

    Uses the status given in the features table (the TCIA clinical table disagrees for
    some subjects; both stay in the graph and the run reports the conflict). Every
    result goes into the graph (``q_max=1``) so the queries can rank them by q.
    """
    from kg.analysis.associations import run_analysis, write_run

    run = run_analysis(
        kg,
        markers=["EGFR mutation status"],
        method="mannwhitney",
        q_max=1.0,
        cohort=NSCLC,
        marker_source="nsclc_radiogenomics_original_features.csv",
    )
    write_run(kg, run)
    return run


EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("features_for_gene", {"gene": "ERBB1"}),
    ("targets_for_feature", {"feature": "Q4LE"}),
    ("features_in_class", {"feature_class": "igkg:GLSZMFeature"}),
    ("crosswalk", {"term": "MONDO:0007032"}),
    ("terms_under_mesh_tree", {"tree": "C04"}),
)
"""Named queries the demo answers (see docs/queries.md for all of them)."""


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
        for report in build(kg, progress=lambda text: print(text, file=sys.stderr, flush=True)):
            print(report.summary())
        print("associating every feature with EGFR mutation status ...", file=sys.stderr, flush=True)
        run = analyse(kg)
        print(f"analysis run {run.run_id}: {len(run.results)} tests, {int((run.results['q'] <= 0.05).sum())} with q <= 0.05")
        from kg.analysis.reasoning import materialise

        print("materialising inferences (owlready2 + HermiT) ...", file=sys.stderr, flush=True)
        print(materialise(kg).summary())
        for name, params in EXAMPLES:
            answer = kg.ask(name, **params)
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            print(f"\n== {name}({shown}): {len(answer)} row(s)")
            print(answer.head(10).to_string(index=False, max_colwidth=60))
        stats = kg.stats()
        print(f"\nstore {args.store}: {stats.triples} triples in {len(stats.graphs)} graphs")
    if args.no_serve:
        return 0
    import uvicorn

    from kg.endpoint import create_app

    print(f"serving http://{args.host}:{args.port}/ (SPARQL at /sparql; Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(create_app(args.store), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
