"""Real tables for the statistics kernels: the NSCLC-Radiogenomics features joined to TCIA's clinical table."""

from __future__ import annotations

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
