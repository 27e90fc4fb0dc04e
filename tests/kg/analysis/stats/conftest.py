"""Real tables for the statistics kernels: the NSCLC-Radiogenomics features joined to TCIA's clinical table."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

NON_FEATURES = ["Gender", "Smoking status", "EGFR mutation status"]


@dataclass(frozen=True)
class Nsclc:
    """117 subjects: ``features`` (107 pyradiomics), ``table`` (the whole CSV), ``clinical`` (TCIA rows of the same ids).

    ``clinical_all`` is TCIA's whole clinical table (211 patients, some with unknown EGFR status).
    """

    features: pd.DataFrame
    table: pd.DataFrame
    clinical: pd.DataFrame
    clinical_all: pd.DataFrame


@pytest.fixture(scope="session")
def nsclc(shared_data: Path) -> Nsclc:
    folder = shared_data / "radiogenomics"
    table = pd.read_csv(folder / "nsclc_radiogenomics_original_features.csv").set_index("Case ID")
    clinical = pd.read_csv(folder / "nsclc_clinical_tcia.csv").set_index("Patient ID")
    shared = table.index.intersection(clinical.index, sort=False)
    assert len(shared) == 117
    return Nsclc(table.drop(columns=NON_FEATURES), table, clinical.loc[shared], clinical)


@dataclass(frozen=True)
class Interobserver:
    """The Maastricht inter-observer study (FAIR IBSI tables): 21 NSCLC patients, 10 delineations each
    (5 automatic, 5 visual; one patient has only the 5 visual). ``features``: the long Feature_table
    joined to ImageSpace_table, so ``ROImask_name`` names the delineation of every row."""

    features: pd.DataFrame


@pytest.fixture(scope="session")
def interobserver(shared_data: Path) -> Interobserver:
    archive = (
        shared_data / "radiomics" / "maastricht_interobserver" / "Interobserver-Radiomics_IBSI_tables.zip"
    )
    with zipfile.ZipFile(archive) as zf:
        with zf.open("Feature_table.csv") as fh:
            features = pd.read_csv(fh)
        with zf.open("ImageSpace_table.csv") as fh:
            spaces = pd.read_csv(fh)
    return Interobserver(features.merge(spaces, on="ImageSpace_name", how="left", validate="many_to_one"))


@pytest.fixture(scope="session")
def imagene(shared_data: Path) -> pd.DataFrame:
    """ImaGene's lung cohort: 44 subjects x 1,522 pyradiomics features."""
    path = shared_data / "radiogenomics" / "imagene_lung" / "Lung_radiomic_features_new_cohort_n44.csv"
    return pd.read_csv(path).set_index("ID")
