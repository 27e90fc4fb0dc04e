"""Named queries over variants: variants_for_feature and features_for_variant on a GWAS run and the GWAS
Catalog sample, and diseases_for_feature walking feature -> variant -> gene -> disease (HPO's file)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.analysis.gwas.run import run_gwas

DATA = Path(__file__).resolve().parents[2] / "data"
CATALOG = DATA / "gwas_catalog" / "good" / "gwas_catalog_v1.0.2-associations_e113_r2025-01-30.tsv"
GENES = DATA / "gwas_catalog" / "genes" / "Homo_sapiens.gene_info"
FEATURES = {"Y1": "original_shape_MeshVolume", "Y2": "original_firstorder_Mean"}


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[tuple[KnowledgeGraph, pd.DataFrame]]:
    folder = tmp_path_factory.mktemp("variant-queries")
    example = shared_data / "genotypes" / "regenie_example"
    phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").rename(columns=FEATURES).drop(columns="FID")
    covariates = pd.read_csv(example / "covariates.txt", sep=" ").drop(columns="FID")
    phenotypes.merge(covariates, on="IID").to_csv(folder / "features.csv", index=False)
    kg = KnowledgeGraph(folder / "store")
    kg.load(GENES, kind="gene-info")
    kg.load(CATALOG)
    kg.load(shared_data / "diseases" / "hpo_genes_to_disease.txt", kind="hpo-genes-to-disease")
    kg.load(example / "example.bed", build="GRCh37")
    kg.load(folder / "features.csv", kind="radiomics-csv", id_column="IID")
    result = run_gwas(kg, covariates=["V1", "V2", "V3"], p_max=1e-2)
    yield kg, result.hits
    kg.close()


def test_variants_for_feature_lists_the_run_hits_with_beta_and_p(graph: tuple[KnowledgeGraph, pd.DataFrame]) -> None:
    kg, hits = graph
    feature = FEATURES["Y1"]
    answer = kg.ask("variants_for_feature", feature=feature, p_max=1e-2)
    expected = hits[hits["feature"] == feature]
    assert len(answer) == len(expected) > 0
    merged = expected.merge(answer.assign(variant=answer["variant_id"].astype(str)), on="variant", suffixes=("", "_q"))
    assert len(merged) == len(expected)
    assert (merged["beta"] - merged["beta_q"]).abs().max() < 1e-12 and (merged["p"] - merged["p_q"]).abs().max() < 1e-15
    assert merged["run"].notna().all() and (merged["effect_allele"] == merged["effect_allele_q"].astype(str)).all()
    assert list(answer["p"]) == sorted(answer["p"])


def test_published_imaging_hits_with_their_genes(graph: tuple[KnowledgeGraph, pd.DataFrame]) -> None:
    kg, _ = graph
    with open(CATALOG, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if "http://www.ebi.ac.uk/efo/EFO_0005035" in r["MAPPED_TRAIT_URI"]]
    answer = kg.ask("variants_for_feature", feature="hippocampal volume")
    assert set(answer["variant_id"]) == {r["SNPS"] for r in rows}
    assert dict(zip(answer["variant_id"], answer["genes"], strict=True)) == {r["SNPS"]: r["MAPPED_GENE"] for r in rows}
    assert set(answer["publication"]) == {"http://identifiers.org/pubmed/" + r["PUBMEDID"] for r in rows}


def test_features_for_variant(graph: tuple[KnowledgeGraph, pd.DataFrame]) -> None:
    kg, hits = graph
    best = hits.sort_values("p").iloc[0]
    answer = kg.ask("features_for_variant", variant=str(best["variant"]))
    assert set(answer["feature_name"]) == set(hits.loc[hits["variant"] == best["variant"], "feature"])
    published = kg.ask("features_for_variant", variant="rs429358")
    assert list(published["feature_name"]) == ["hippocampal volume"]  # not the Alzheimer trait: not imaging


def test_diseases_for_feature_walks_through_the_variant_to_its_gene(graph: tuple[KnowledgeGraph, pd.DataFrame],
                                                                   shared_data: Path) -> None:
    kg, _ = graph
    with open(shared_data / "diseases" / "hpo_genes_to_disease.txt", encoding="utf-8") as handle:
        apoe = {line.split("\t")[3] for line in handle if line.split("\t")[1] == "APOE" and line.split("\t")[3].startswith("OMIM:")}
    answer = kg.ask("diseases_for_feature", feature="hippocampal volume")
    omim = {"OMIM:" + str(d).rsplit("/", 1)[-1] for d in answer["disease"] if "/mim/" in str(d)}
    genes = {g for text in answer["via_genes"] for g in str(text).split(" | ")}
    assert apoe and omim >= apoe  # hippocampal volume -> rs429358 -> APOE -> its OMIM diseases
    assert "APOE" in genes
