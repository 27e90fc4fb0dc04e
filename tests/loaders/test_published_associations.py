"""Published associations sit beside computed ones and are told apart by provenance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kg import KnowledgeGraph
from kg.analysis.associations import run_analysis, write_run

DATA = Path(__file__).resolve().parents[1] / "data" / "published"
GOOD = DATA / "good" / "published_associations.csv"


def test_published_rows_become_associations(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / "genes" / "scout_hgnc_reduced_set.txt", kind="hgnc")
    report = kg.load(GOOD, kind="associations")
    table = pd.read_csv(GOOD)
    assert report.records_read == len(table)
    assert [r.record for r in report.rejected] == ["NOTAGENE1"] and "NOTAGENE1" in report.unmapped["gene"]
    assert report.unmapped["method"] == {"logistic regression"}
    found = kg.query(
        """SELECT ?feature ?target ?p ?q ?src ?pub ?method WHERE {
             ?a a igkg:RadiogenomicAssociation ; igkg:feature ?f ; igkg:target ?target ; igkg:publication ?pub .
             OPTIONAL { ?f igkg:pyradiomicsName ?pn } OPTIONAL { ?f rdfs:label ?l } BIND(COALESCE(?pn, ?l) AS ?feature)
             OPTIONAL { ?a igkg:pValue ?p } OPTIONAL { ?a igkg:qValue ?q } OPTIONAL { ?a dct:source ?src }
             OPTIONAL { ?a igkg:method ?method } }"""
    )
    kept = table[table["gene"] != "NOTAGENE1"]
    merged = found.merge(kept, on="feature", suffixes=("", "_table"))
    assert len(merged) == len(kept)
    assert (merged["p"] == merged["p_table"]).all()
    tp53 = merged[merged["gene"].isin(["TP53", "7157"])]
    assert set(tp53["target"]) == {"http://identifiers.org/ncbigene/7157"}
    assert set(merged["src"].dropna()) == {"https://doi.org/10.5555/igkg.test.0001", "http://identifiers.org/pubmed/99999999"}
    assert merged.loc[merged["gene"] == "TP53", "method"].dropna().tolist() == ["http://purl.obolibrary.org/obo/STATO_0000201"]


def test_told_apart_from_computed_associations(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv", kind="radiomics-csv")
    kg.load(GOOD, kind="associations")
    run = run_analysis(kg, markers=["EGFR"], q_max=0.5)
    write_run(kg, run)
    rows = kg.query(
        """SELECT DISTINCT ?a ?how WHERE {
             ?a a igkg:RadiogenomicAssociation ; igkg:feature ?f ; igkg:target ?m .
             ?f igkg:pyradiomicsName "original_firstorder_Minimum" . ?m rdfs:label "EGFR mutation status" .
             { ?a dct:source ?src BIND("published" AS ?how) } UNION { ?a prov:wasGeneratedBy ?run . ?run a igkg:AnalysisRun BIND("computed" AS ?how) } }"""
    )
    assert sorted(rows["how"]) == ["computed", "published"]
    assert rows["a"].nunique() == 2


