"""``diseases_for_feature`` walks feature -> association -> marker -> gene -> disease (HPO) and names
each disease through its exact matches (an OMIM id of HPO meets the Disease Ontology class that
cross-references it: OMIM:211980 -> DOID:1324 'lung cancer'). Expected values come from the files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kg import KnowledgeGraph

FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
MARKER = "EGFR mutation status"
OMIM = "http://identifiers.org/mim/"


@pytest.fixture(scope="module")
def graph(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from kg.analysis.associations import run_analysis, write_run

    kg = KnowledgeGraph(tmp_path_factory.mktemp("diseases") / "store")
    kg.load(shared_data / "genes/Homo_sapiens.gene_info.gz", kind="gene-info")
    kg.load(shared_data / "diseases/hpo_genes_to_disease.txt", kind="hpo-genes-to-disease")
    kg.load(shared_data / "diseases/disease_ontology", kind="disease-ontology")
    kg.load(shared_data / FEATURES, kind="radiomics-csv", id_column="Case ID", cohort="NSCLC")
    write_run(kg, run_analysis(kg, markers=[MARKER], method="mannwhitney", q_max=1.0))
    yield kg
    kg.close()


def _strip(text: str) -> str:
    return text.strip().strip('"')


def test_egfr_diseases_are_named_by_the_disease_ontology(graph: KnowledgeGraph, shared_data: Path) -> None:
    # what HPO says EGFR (NCBIGene:1956) leads to
    with (shared_data / "diseases/hpo_genes_to_disease.txt").open(newline="") as handle:
        egfr = {row["disease_id"] for row in csv.DictReader(handle, delimiter="\t") if row["ncbi_gene_id"] == "NCBIGene:1956"}
    # the DOID and label of each OMIM id, as the Disease Ontology's report gives them
    named: dict[str, tuple[str, str]] = {}
    omim_of: dict[str, set[str]] = {}
    with (shared_data / "diseases/disease_ontology/OMIMinDO.tsv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            for xref in _strip(row["xrefs"]).split(","):
                omim = "OMIM:" + _strip(xref).removeprefix("MIM:")
                named.setdefault(omim, (_strip(row["id"]), _strip(row["label"])))
                omim_of.setdefault(_strip(row["id"]), set()).add(omim)
    assert "OMIM:211980" in egfr and named["OMIM:211980"] == ("DOID:1324", "lung cancer")

    answer = graph.ask("diseases_for_feature", feature="original_firstorder_Minimum")
    rows = {row.disease: row for row in answer.itertuples()}
    omim = {f"OMIM:{d.removeprefix(OMIM)}" for d in rows if d.startswith(OMIM)}
    assert {d for d in egfr if d.startswith("OMIM:")} <= omim
    for disease in omim & set(named):
        row = rows[OMIM + disease.removeprefix("OMIM:")]
        doid, label = named[disease]
        assert row.disease_label == label, disease
        assert doid in row.doid_ids.split(" | ")
        assert disease in row.omim_ids.split(" | ")
        assert "EGFR" in row.via_genes.split(" | ")
    # the exact matches are followed both ways: every OMIM id of DOID:1324 is listed
    lung = rows[OMIM + "211980"]
    assert (lung.disease_label, lung.doid_ids) == ("lung cancer", "DOID:1324")
    assert set(lung.omim_ids.split(" | ")) == omim_of["DOID:1324"]


def test_q_max_is_applied_to_the_associations_walked(graph: KnowledgeGraph) -> None:
    best = graph.query(
        "SELECT (MIN(?q) AS ?q) WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:qValue ?q ; "
        "igkg:feature/igkg:pyradiomicsName 'original_firstorder_Minimum' }"
    )["q"].iloc[0]
    assert graph.ask("diseases_for_feature", feature="original_firstorder_Minimum", q_max=best / 2).empty
    answer = graph.ask("diseases_for_feature", feature="original_firstorder_Minimum", q_max=best)
    assert len(answer) > 0 and (answer["best_q"] == best).all()
