"""Fixtures of the data-plane tests: a fresh plane per test and the real matrices it stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kg.dataplane import DataPlane


@pytest.fixture
def plane(tmp_path: Path) -> DataPlane:
    """An empty data plane in a temporary store folder."""
    with DataPlane(tmp_path / "store" / "columnar") as p:
        yield p


@pytest.fixture(scope="session")
def nsclc(shared_data: Path) -> pd.DataFrame:
    """The NSCLC-Radiogenomics feature table as pandas reads it (117 x 111)."""
    return pd.read_csv(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv")


@pytest.fixture(scope="session")
def imagene(shared_data: Path) -> pd.DataFrame:
    """ImaGene's lung expression matrix as pandas reads it (44 samples x 5,159 genes + ID)."""
    return pd.read_csv(shared_data / "radiogenomics" / "imagene_lung" / "Lung_gene_expression_new_cohort_n44.csv")
