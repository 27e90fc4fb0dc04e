"""The demo: build the graph from the bundled data, run the analyses, show the radiogenomic chain, serve it.

``make demo`` runs ``python -m examples.demo``. Every file it loads is in ``examples/data``
with its source and licence beside it. What it does, in order:

1. loads the references (HGNC, NCBI's full human gene_info, Reactome, GO, MONDO, MeSH, HPO's
   genes -> diseases, the Disease Ontology's cross-references) and the imaging-genomics data
   (NSCLC-Radiogenomics features and clinical table, ImaGene's lung features and expression,
   a pyradiomics extraction of pyradiomics' own test cases);
2. runs two association analyses: every ImaGene lung feature against every expressed gene
   (Spearman, 44 subjects, Benjamini-Hochberg over all pairs; the associations with
   q <= 0.05 go into the graph), and every NSCLC feature against EGFR and KRAS mutation
   status (logistic regression adjusted for sex, smoking and age, or Mann-Whitney U when the
   engine takes no covariates; all results go into the graph, significant or not);
3. materialises the ontology's inferences (HermiT);
4. prints, as tables that fit 120 columns, one feature's chain feature -> gene (statistic, q)
   -> pathways -> diseases and one gene's features, and writes the volcano, heatmap and box
   plots as PNG files (``--figures``);
5. serves the graph at http://127.0.0.1:8000 (unless ``--no-serve``).
"""

from __future__ import annotations

import argparse
import inspect
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kg import KnowledgeGraph

__all__ = [
    "ANALYSES",
    "DATA",
    "EXAMPLES",
    "IMAGENE",
    "NSCLC",
    "SOURCES",
    "Analysis",
    "DemoSource",
    "analyse",
    "build",
    "chain",
    "main",
]

DATA = Path(__file__).resolve().parent / "data"

NSCLC = "NSCLC-Radiogenomics"
IMAGENE = "ImaGene lung"


@dataclass(frozen=True)
class DemoSource:
    """One bundled file and how to load it."""

    path: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


SOURCES: tuple[DemoSource, ...] = (
    DemoSource("genes/scout_hgnc_reduced_set.txt", "hgnc"),
    DemoSource("genes/Homo_sapiens.gene_info.gz", "gene-info"),
    DemoSource("reactome", "reactome", {"species": "Homo sapiens"}),
    DemoSource("obo/oak_go-nucleus.obo", "obo"),
    DemoSource("obo/oak_mondo-sample-mappings.obo", "obo"),
    DemoSource("obo/oak_test-uniprot.gaf", "gaf"),
    DemoSource("mesh/samples.nt", "mesh-rdf"),
    DemoSource("mesh/desc-samples.xml", "mesh-xml"),
    DemoSource("diseases/hpo_genes_to_disease.txt", "hpo-genes-to-disease"),
    DemoSource("diseases/disease_ontology", "disease-ontology"),
    DemoSource("nsclc/nsclc_radiogenomics_original_features.csv", "radiomics-csv", {"id_column": "Case ID", "cohort": NSCLC}),
    DemoSource("nsclc/nsclc_clinical_tcia.csv", "clinical", {"id_column": "Patient ID", "cohort": NSCLC}),
    DemoSource("imagene_lung/Lung_radiomic_features_new_cohort_n44.csv", "radiomics-csv", {"id_column": "ID", "cohort": IMAGENE}),
    DemoSource(
        "imagene_lung/Lung_gene_expression_new_cohort_n44.csv",
        "expression",
        # 227,000 values: into the columnar data plane only (the analyses read them there)
        {"layout": "samples-by-genes", "id_column": "ID", "cohort": IMAGENE, "values": "columnar"},
    ),
    DemoSource("pyradiomics/manifest.csv", "pyradiomics", {"params": str(DATA / "pyradiomics" / "Params.yaml")}),
)
"""What the demo loads, in order (references first, so later loaders can map onto them)."""


@dataclass(frozen=True)
class Analysis:
    """One association analysis of the demo: ``run_analysis`` keyword arguments and why."""

    title: str
    options: dict[str, Any]
    covariates: tuple[str, ...] = ()


ANALYSES: tuple[Analysis, ...] = (
    Analysis(
        f"{IMAGENE}: every radiomic feature x every expressed gene (Spearman, BH-FDR over all pairs)",
        {"genes": True, "method": "spearman", "cohort": IMAGENE, "q_max": 0.05},
    ),
    Analysis(
        f"{NSCLC}: every feature x EGFR and KRAS mutation status (TCIA clinical table)",
        {
            "markers": ["EGFR mutation status", "KRAS mutation status"],
            "cohort": NSCLC,
            "q_max": 1.0,
            "marker_source": "nsclc_clinical_tcia.csv",
        },
        covariates=("Gender", "Smoking status", "Age at Histological Diagnosis"),
    ),
)
"""The analyses: the lung pair, where features track genes, and the NSCLC marker statuses.

The lung run stores only its associations with q <= 0.05 (1,522 x 5,159 pairs are tested);
the NSCLC run stores every result. The NSCLC run is a logistic regression of each marker on
each feature adjusted for sex, smoking status and age (Wald test of the feature's coefficient)
when the engine takes ``covariates``; otherwise the unadjusted Mann-Whitney U test."""


def build(kg: KnowledgeGraph, *, progress: Callable[[str], None] | None = None) -> list[Any]:
    """Load every bundled demo source into ``kg``; returns the load reports."""
    reports = []
    for source in SOURCES:
        if progress:
            progress(f"loading {source.path} ({source.kind})")
        reports.append(kg.load(DATA / source.path, kind=source.kind, **source.options))
    return reports


def analyse(kg: KnowledgeGraph, *, progress: Callable[[str], None] | None = None) -> list[Any]:
    """Run and store the demo's analyses (``ANALYSES``); returns the ``AssociationRun``s."""
    from kg.analysis.associations import run_analysis, write_run

    accepted = set(inspect.signature(run_analysis).parameters)
    runs = []
    for analysis in ANALYSES:
        if progress:
            progress(f"associating: {analysis.title} ...")
        options = dict(analysis.options)
        if analysis.covariates and "covariates" in accepted:
            # marker ~ feature + covariates (logistic regression, Wald test of the feature)
            options.update(covariates=list(analysis.covariates), method="logistic")
        run = run_analysis(kg, **options)
        write_run(kg, run)
        runs.append(run)
    return runs


EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("features_for_gene", {"gene": "ERBB1", "q_max": 1}),
    ("features_in_class", {"feature_class": "igkg:GLSZMFeature"}),
    ("crosswalk", {"term": "MONDO:0007032"}),
    ("terms_under_mesh_tree", {"tree": "C04"}),
)
"""Further named queries the demo answers (see docs/queries.md for all of them)."""

PATHWAYS_QUERY = """
SELECT ?gene ?symbol ?pathway ?pathway_label WHERE {
  VALUES ?symbol { %s }
  ?gene rdfs:label ?symbol ; a igkg:Gene ; igkg:memberOf ?pathway .
  ?pathway a igkg:Pathway ; rdfs:label ?pathway_label .
} ORDER BY ?symbol ?pathway_label"""
"""The Reactome pathways of the genes named in VALUES (symbols written as N-Triples literals)."""

DISEASE_GENES_QUERY = """
SELECT DISTINCT ?gene ?symbol WHERE {
  VALUES ?symbol { %s }
  ?gene rdfs:label ?symbol ; a igkg:Gene ; igkg:associatedWithDisease ?d .
}"""
"""Which of the genes named in VALUES have a known disease."""


def _symbols(names: Any) -> str:
    """Gene symbols as a VALUES list of N-Triples literals (escaped by rdflib, never pasted raw)."""
    from rdflib import Literal

    from kg.core.terms import nt

    return " ".join(nt(Literal(str(name))) for name in sorted(set(names)))


@dataclass
class Chain:
    """One feature's chain and one gene's features, as the demo prints them."""

    feature: str
    gene: str
    genes: pd.DataFrame
    pathways: pd.DataFrame
    diseases: pd.DataFrame
    features: pd.DataFrame


def chain(kg: KnowledgeGraph, run: Any, *, q_max: float = 0.05) -> Chain:
    """The demo's story from a feature x gene run.

    The feature is the one whose significant genes (q <= ``q_max``) reach the most diseases
    (ties: the lowest q); the gene is its best gene among those with a known disease. Both are
    chosen from the data, not named in advance.
    """
    significant = run.results[run.results["q"] <= q_max]
    with_disease = set(kg.query(DISEASE_GENES_QUERY % _symbols(significant["target"]))["symbol"])
    linked = significant[significant["target"].isin(with_disease)]
    if linked.empty:
        raise RuntimeError(f"no association with q <= {q_max} reaches a gene with a known disease")
    ranked = (
        linked.groupby("feature")
        .agg(genes=("target", "nunique"), best_q=("q", "min"))
        .sort_values(["genes", "best_q"], ascending=[False, True], kind="stable")
    )
    feature = str(ranked.index[0])
    genes = kg.ask("targets_for_feature", feature=feature, q_max=q_max)
    best = linked[linked["feature"] == feature].sort_values(["q", "p"], kind="stable")
    gene = str(best.iloc[0]["target"])
    pathways = kg.query(PATHWAYS_QUERY % _symbols(genes["target_label"].dropna()))
    diseases = kg.ask("diseases_for_feature", feature=feature, q_max=q_max)
    features = kg.ask("features_for_gene", gene=gene, q_max=q_max)
    return Chain(feature, gene, genes, pathways, diseases, features)


def _print_chain(story: Chain) -> None:
    from kg.views.tables import format_table

    genes = story.genes[["target_label", "method", "statistic", "q", "n", "pathways"]]
    print(f"\n== The chain of one feature: {story.feature}")
    print(format_table(genes, title=f"1. genes whose expression tracks {story.feature} (q <= 0.05)", max_rows=10))
    summary = (
        story.pathways.groupby(["pathway", "pathway_label"])["symbol"]
        .agg(lambda s: " | ".join(sorted(set(s))))
        .reset_index()
        .rename(columns={"symbol": "genes"})
    )
    summary["n_genes"] = summary["genes"].str.count(r"\|") + 1
    summary = summary.sort_values(["n_genes", "pathway_label"], ascending=[False, True], kind="stable")
    print(format_table(summary[["pathway", "pathway_label", "genes"]], title="2. Reactome pathways of those genes", max_rows=10))
    diseases = story.diseases.assign(unnamed=story.diseases["disease_label"].isna())
    diseases = diseases.sort_values(["unnamed", "best_q"], kind="stable")  # named diseases first
    diseases = diseases[["disease", "disease_label", "via_genes", "doid_ids", "omim_ids", "orphanet_ids", "best_q"]]
    print(format_table(diseases, title="3. diseases of those genes (HPO), named through the Disease Ontology", max_rows=12))
    features = story.features[["feature_name", "symbol", "method", "statistic", "q", "n", "cohort"]]
    print(f"\n== The features that track one gene: {story.gene}")
    print(format_table(features, title=f"features_for_gene(gene={story.gene}, q_max=0.05)", max_rows=10))


def _write_figures(kg: KnowledgeGraph, runs: list[Any], folder: Path, story: Chain) -> list[Path]:
    from kg.analysis.figures import association_figure
    from kg.views.plots import save

    folder.mkdir(parents=True, exist_ok=True)
    lung, nsclc = runs[0], runs[1]
    written = [
        save(association_figure(kg, "volcano", run=lung), folder / "lung_volcano.png"),
        save(association_figure(kg, "heatmap", run=lung), folder / "lung_heatmap.png"),
        save(association_figure(kg, "volcano", run=nsclc), folder / "nsclc_volcano.png"),
    ]
    best = nsclc.results.sort_values(["p"], kind="stable").iloc[0]
    written.append(
        save(
            association_figure(kg, "box", feature=str(best["feature"]), marker=str(best["target"]), cohort=NSCLC),
            folder / "nsclc_box.png",
        )
    )
    written.append(save(association_figure(kg, "box", feature=story.feature, gene=story.gene, cohort=IMAGENE), folder / "lung_scatter_box.png"))
    return written


def main(argv: list[str] | None = None) -> int:
    """Build the demo store, run the analyses, print the chain, write the figures, then serve."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="./igkg-data")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--figures", default="./igkg-figures", help="folder for the PNG plots")
    parser.add_argument("--no-serve", action="store_true", help="build and answer, do not serve")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()

    def progress(text: str) -> None:
        print(f"[{time.monotonic() - started:5.0f}s] {text}", file=sys.stderr, flush=True)

    from kg.views.tables import format_table

    with KnowledgeGraph(args.store) as kg:
        for report in build(kg, progress=progress):
            print(report.summary().replace(f"{DATA}/", ""))  # paths relative to examples/data
        runs = analyse(kg, progress=progress)
        for analysis, run in zip(ANALYSES, runs, strict=True):
            q = run.results["q"]
            print(
                f"analysis run {run.run_id}: {analysis.title}: {len(run.results):,} tests, "
                f"{int((q <= 0.05).sum()):,} with q <= 0.05 (lowest q {q.min():.3g})"
            )
            for note in run.notes:
                print(f"  note: {note}")
        from kg.analysis.reasoning import materialise

        progress("materialising inferences (owlready2 + HermiT) ...")
        print(materialise(kg).summary())
        story = chain(kg, runs[0])
        _print_chain(story)
        for name, params in EXAMPLES:
            answer = kg.ask(name, **params)
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            print(format_table(answer, title=f"{name}({shown}): {len(answer)} row(s)", max_rows=8))
        progress("writing figures ...")
        for path in _write_figures(kg, runs, Path(args.figures), story):
            print(f"figure: {path}")
        stats = kg.stats()
        print(f"\nstore {args.store}: {stats.triples:,} triples in {len(stats.graphs)} graphs")
    progress("done")
    if args.no_serve:
        return 0
    import uvicorn

    from kg.endpoint import create_app

    progress(f"serving http://{args.host}:{args.port}/ (SPARQL at /sparql; Ctrl-C stops)")
    uvicorn.run(create_app(args.store), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
