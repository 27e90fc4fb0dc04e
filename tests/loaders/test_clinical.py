"""Clinical tables: TCIA's NSCLC table and the TCGA Biotab file, read as published."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.analysis.conflicts import marker_conflicts
from kg.core.errors import LoadError
from loaders.clinical import diagnosis_iri

ROOT = Path(__file__).resolve().parents[2]
NSCLC = ROOT / "examples" / "data" / "nsclc" / "nsclc_clinical_tcia.csv"
BIOTAB = "radiogenomics/tcga_gbm/nationwidechildrens.org_clinical_patient_gbm.txt"


def test_bundled_copy_is_the_shared_file(shared_data: Path) -> None:
    assert NSCLC.read_bytes() == (shared_data / "radiogenomics" / "nsclc_clinical_tcia.csv").read_bytes()


def test_nsclc_markers_sex_stage_outcome(kg: KnowledgeGraph, shared_data: Path) -> None:
    raw = pd.read_csv(NSCLC, dtype=str).set_index("Patient ID")
    report = kg.load(NSCLC, kind="clinical", cohort="NSCLC-Radiogenomics")
    assert report.records_read == len(raw) and not report.rejected
    statuses = kg.query(
        """SELECT ?id ?label ?status ?value WHERE { ?m a igkg:MarkerStatus ; igkg:subject ?s ; igkg:marker ?k ;
             igkg:status ?status . OPTIONAL { ?m igkg:value ?value } ?s igkg:identifier ?id . ?k rdfs:label ?label }"""
    )
    for column in ("EGFR mutation status", "KRAS mutation status", "ALK translocation status"):
        ours = statuses[statuses["label"] == column].set_index("id")["status"].sort_index()
        expected = raw[column].dropna().sort_index()
        pd.testing.assert_series_equal(ours, expected, check_names=False)
    egfr = statuses[statuses["label"] == "EGFR mutation status"].set_index("id")
    assert (egfr[egfr["status"] == "Mutant"]["value"] == 1).all()
    assert (egfr[egfr["status"] == "Wildtype"]["value"] == 0).all()
    assert egfr[egfr["status"].isin(["Unknown", "Not collected"])]["value"].isna().all()
    facts = kg.query(
        """SELECT ?id ?sex ?stage ?vital ?dx WHERE { ?s igkg:identifier ?id ; igkg:sex ?sex ; igkg:vitalStatus ?vital ;
             igkg:diagnosisText ?dx ; igkg:inCohort/rdfs:label "NSCLC-Radiogenomics" . OPTIONAL { ?s igkg:stage ?stage } }"""
    ).set_index("id")
    assert len(facts) == len(raw)
    assert (facts["sex"] == raw.loc[facts.index, "Gender"].str.lower()).all()
    assert (facts["vital"] == raw.loc[facts.index, "Survival Status"].str.lower()).all()
    assert (facts["dx"] == raw.loc[facts.index, "Histology "].str.strip()).all()
    staged = raw[raw["Pathological T stage"] != "Not Collected"]
    expected_stage = staged["Pathological T stage"] + " " + staged["Pathological N stage"] + " " + staged["Pathological M stage"]
    assert (facts.loc[staged.index, "stage"] == expected_stage).all()
    assert report.unmapped["diagnosis"] == set(raw["Histology "].str.strip())


def test_egfr_conflict_with_the_feature_table(kg: KnowledgeGraph, shared_data: Path) -> None:
    features = pd.read_csv(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv").set_index("Case ID")
    raw = pd.read_csv(NSCLC).set_index("Patient ID")
    kg.load(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv", kind="radiomics-csv")
    kg.load(NSCLC, kind="clinical")
    both = features[["EGFR mutation status"]].join(raw[["EGFR mutation status"]].rename(columns={"EGFR mutation status": "tcia"}), how="inner")
    known = both[both["tcia"].isin(["Mutant", "Wildtype"])]
    disagree = known[(known["EGFR mutation status"] == 1) != (known["tcia"] == "Mutant")]
    conflicts = marker_conflicts(kg)
    assert set(conflicts["subject_id"]) == set(disagree.index) and len(disagree) == 1
    assert len(conflicts) == 2 and conflicts["graph"].nunique() == 2


def test_tcga_biotab_extra_header_rows(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / BIOTAB
    raw = pd.read_csv(path, sep="\t", skiprows=[1, 2], dtype=str).set_index("bcr_patient_barcode")
    report = kg.load(path, kind="clinical")
    assert report.records_read == len(raw)
    facts = kg.query(
        """SELECT ?id ?sex ?vital ?days ?age WHERE { ?s a igkg:Subject ; igkg:identifier ?id .
             OPTIONAL { ?s igkg:sex ?sex } OPTIONAL { ?s igkg:vitalStatus ?vital }
             OPTIONAL { ?s igkg:survivalDays ?days } OPTIONAL { ?s igkg:ageAtDiagnosis ?age } }"""
    ).set_index("id")
    assert sorted(facts.index) == sorted(raw.index)
    assert not any(i.startswith("CDE_ID") or i == "bcr_patient_barcode" for i in facts.index)
    sexed = raw[~raw["gender"].str.startswith("[")]
    assert (facts.loc[sexed.index, "sex"] == sexed["gender"].str.lower()).all()
    assert facts.loc[raw.index.difference(sexed.index), "sex"].isna().all()
    dead = raw[raw["death_days_to"].str.match(r"^-?\d+$")]
    assert (facts.loc[dead.index, "days"] == dead["death_days_to"].astype(float)).all()
    assert facts.loc[raw.index[raw["death_days_to"].str.startswith("[")], "days"].isna().all()


def test_diagnosis_codes_map_to_disease_nodes(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "coded_clinical.csv"
    path.write_text(
        "Patient ID,Gender,Diagnosis\nP1,Female,MESH:D002289\nP2,Male,UMLS:C0007131\nP3,Male,NCIT:C3512\n"
        "P4,Female,MONDO:0005233\nP5,Female,Lung adenocarcinoma\n"
    )
    report = kg.load(path, kind="clinical")
    found = kg.query("SELECT ?id ?d WHERE { ?s igkg:identifier ?id ; igkg:diagnosis ?d }").set_index("id")["d"].to_dict()
    assert found == {
        "P1": "http://id.nlm.nih.gov/mesh/D002289",
        "P2": "http://identifiers.org/umls/C0007131",
        "P3": "http://purl.obolibrary.org/obo/NCIT_C3512",
        "P4": "http://purl.obolibrary.org/obo/MONDO_0005233",
    }
    assert report.unmapped["diagnosis"] == {"Lung adenocarcinoma"}
    assert diagnosis_iri("ICD10:C34.1") is None


def test_bad_marker_status_and_duplicate_subject(kg: KnowledgeGraph, tmp_path: Path) -> None:
    odd = tmp_path / "odd_clinical.csv"
    odd.write_text("Patient ID,EGFR mutation status\nP1,Mutant\nP2,Wildtype\nP3,Amplified?\n")
    report = kg.load(odd, kind="clinical")
    assert len(report.rejected) == 1 and report.rejected[0].line == 4 and "Amplified?" in str(report.rejected[0])
    twice = tmp_path / "twice_clinical.csv"
    twice.write_text("Patient ID,Gender\nP1,Female\nP1,Male\n")
    with pytest.raises(LoadError, match=r"line 3.*subject 'P1' appears again"):
        kg.load(twice, kind="clinical")
