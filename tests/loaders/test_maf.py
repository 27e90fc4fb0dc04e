"""MAF (GDC layout): mutation observations, genes through the resolver, markers, bad files."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from kg import KnowledgeGraph
from kg.analysis.associations import marker_targets

DATA = Path(__file__).resolve().parents[1] / "data" / "maf"
GOOD = DATA / "good" / "gdc_layout.maf"
HGNC = "genes/scout_hgnc_reduced_set.txt"


def maf_rows() -> pd.DataFrame:
    return pd.read_csv(GOOD, sep="\t", comment="#", dtype=str, quoting=csv.QUOTE_NONE)


def test_gdc_maf_rows_become_observations(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / HGNC, kind="hgnc")
    report = kg.load(GOOD, kind="maf", sample_rule="tcga")
    rows = maf_rows()
    assert report.records_read == len(rows) and not report.rejected
    found = kg.query(
        """SELECT ?sample ?symbol ?class ?protein ?gene ?sid WHERE {
             ?m a igkg:MutationObservation ; igkg:sample ?sample ; igkg:geneIdentifier ?symbol ;
                igkg:variantClassification ?class ; igkg:subject ?s . ?s igkg:identifier ?sid .
             OPTIONAL { ?m igkg:proteinChange ?protein } OPTIONAL { ?m igkg:gene ?gene } }"""
    )
    assert len(found) == len(rows)
    merged = found.merge(rows, left_on=["sample", "symbol", "class"], right_on=["Tumor_Sample_Barcode", "Hugo_Symbol", "Variant_Classification"])
    assert len(merged) == len(rows)
    assert (merged["sid"] == merged["Tumor_Sample_Barcode"].str[:12]).all()
    with_protein = merged.dropna(subset=["HGVSp_Short"])
    assert (with_protein["protein"] == with_protein["HGVSp_Short"]).all()
    entrez = merged[merged["Entrez_Gene_Id"] != "0"]
    assert (entrez["gene"] == "http://identifiers.org/ncbigene/" + entrez["Entrez_Gene_Id"]).all()
    assert merged[merged["Entrez_Gene_Id"] == "0"]["gene"].isna().all()  # "Unknown", no gene invented
    # TP53 is in the HGNC sample, EGFR and KRAS are not: their Entrez ids are reported unmapped.
    assert report.unmapped["gene"] == {"1956", "3845"}


def test_marker_genes_give_mutation_statuses(kg: KnowledgeGraph) -> None:
    kg.load(GOOD, kind="maf", sample_rule="tcga", marker_genes="TP53,KRAS")
    rows = maf_rows()
    subjects = set(rows["Tumor_Sample_Barcode"].str[:12])
    markers = marker_targets(kg, ["TP53", "KRAS mutation status"]).targets
    markers.index = markers.index.str.rsplit("/", n=1).str[-1]
    assert set(markers.index) == subjects
    silent = {"Silent", "IGR", "3'UTR", "5'UTR", "Intron", "RNA", "3'Flank", "5'Flank"}
    for gene, column in (("TP53", "TP53 mutation status"), ("KRAS", "KRAS mutation status")):
        hits = set(rows[(rows["Hugo_Symbol"] == gene) & ~rows["Variant_Classification"].isin(silent)]["Tumor_Sample_Barcode"].str[:12])
        assert set(markers.index[markers[column] == 1]) == hits
        assert set(markers.index[markers[column] == 0]) == subjects - hits


def test_unknown_classification_is_a_reported_rejection(kg: KnowledgeGraph) -> None:
    report = kg.load(DATA / "partial" / "unknown_classification.maf", kind="maf")
    assert [r.line for r in report.rejected] == [6]
    assert "'Missense' is not in the MAF specification" in str(report.rejected[0])
    assert len(kg.query("SELECT ?m WHERE { ?m a igkg:MutationObservation }")) == 1
