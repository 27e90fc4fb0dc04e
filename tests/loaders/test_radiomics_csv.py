"""The ``radiomics-csv`` loader on the NSCLC Radiogenomics feature table, and its bad inputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.core.errors import LoadError
from kg.core.iris import DEFAULT_INSTANCE_BASE, mint
from loaders._genes import GeneRecord, GeneResolver

BAD = Path(__file__).resolve().parents[1] / "data" / "radiomics" / "bad"


@pytest.fixture
def nsclc(shared_data: Path) -> Path:
    return shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv"


def test_nsclc_table(kg: KnowledgeGraph, nsclc: Path) -> None:
    raw = pd.read_csv(nsclc)
    report = kg.load(nsclc, kind="radiomics-csv", cohort="NSCLC-Radiogenomics")
    assert report.records_read == 117 and not report.rejected
    per_subject = kg.query(
        "SELECT ?s (COUNT(DISTINCT ?f) AS ?n) WHERE { ?m a igkg:FeatureMeasurement ; igkg:subject ?s ; igkg:feature ?f } GROUP BY ?s"
    )
    assert len(per_subject) == 117 and set(per_subject["n"]) == {107}
    # by IBSI code: first-order mean (Q4LE) of every subject, equal to the file's column
    mean = kg.query(
        "SELECT ?id ?v WHERE { ?m igkg:feature ?f ; igkg:value ?v ; igkg:subject/igkg:identifier ?id . ?f skos:notation 'Q4LE' }"
    ).set_index("id")["v"]
    expected = raw.set_index("Case ID")["original_firstorder_Mean"]
    assert len(mean) == 117
    assert (mean.sort_index() - expected.sort_index()).abs().max() == 0
    # by pyradiomics name
    contrast = kg.query(
        "SELECT ?id ?v WHERE { ?m igkg:feature/igkg:pyradiomicsName 'original_glcm_Contrast' ; igkg:value ?v ; igkg:subject/igkg:identifier ?id }"
    ).set_index("id")["v"]
    assert contrast["R01-003"] == pytest.approx(raw.set_index("Case ID").loc["R01-003", "original_glcm_Contrast"], rel=1e-15)
    # EGFR status reaches the molecular side as MarkerStatus on the shared Subject and Marker nodes
    status = kg.query(
        "SELECT ?id ?status ?value WHERE { ?x a igkg:MarkerStatus ; igkg:marker ?mk ; igkg:status ?status ; igkg:value ?value ; "
        "igkg:subject/igkg:identifier ?id . ?mk rdfs:label 'EGFR mutation status' }"
    ).set_index("id")
    assert len(status) == 117
    assert (status["value"].sort_index().astype(int) == raw.set_index("Case ID")["EGFR mutation status"].sort_index()).all()
    assert set(status.loc[status["value"] == 1, "status"]) == {"Mutant"}
    # sex and smoking become subject properties, never dropped
    sex = kg.query("SELECT ?id ?sex WHERE { ?s igkg:identifier ?id ; igkg:sex ?sex }").set_index("id")["sex"]
    assert sex["R01-003"] == raw.set_index("Case ID").loc["R01-003", "Gender"].lower()
    smoking = kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s igkg:smokingStatus 'Nonsmoker' }")["n"].iloc[0]
    assert smoking == (raw["Smoking status"] == "Nonsmoker").sum()
    assert kg.query("ASK { ?s igkg:inCohort/rdfs:label 'NSCLC-Radiogenomics' }", {"s": mint(DEFAULT_INSTANCE_BASE, "subject", "R01-003")})
    assert report.unmapped == {"gene": {"EGFR"}}  # no genes loaded: the marker is not linked, and it is reported


def test_marker_is_linked_to_the_gene_when_the_resolver_knows_it(kg: KnowledgeGraph, nsclc: Path) -> None:
    egfr = GeneRecord(ncbi_id="1956", hgnc_id="HGNC:3236", symbol="EGFR", status="Approved")
    kg.load(nsclc, kind="radiomics-csv", lookups={"genes": lambda: GeneResolver([egfr])})
    assert kg.query("ASK { ?m a igkg:Marker ; rdfs:label 'EGFR mutation status' ; igkg:gene <http://identifiers.org/ncbigene/1956> }")


def test_id_column_option(kg: KnowledgeGraph, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("Age,Patient Code,original_firstorder_Mean\n61,P1,1.5\n70,P2,2.5\n")
    with pytest.raises(LoadError, match="cannot tell the subject column"):
        kg.load(table, kind="radiomics-csv")
    kg.load(table, kind="radiomics-csv", id_column="Patient Code")
    assert set(kg.query("SELECT ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")["id"]) == {"P1", "P2"}
    assert kg.query("ASK { ?s igkg:identifier 'P1' ; igkg:ageAtDiagnosis ?age FILTER(?age = 61) }")


