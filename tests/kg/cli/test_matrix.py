"""``igkg load --values``, ``igkg matrix`` and ``igkg associate --scheduler``, run as a user would.

Real data: the NSCLC Radiogenomics feature table; a real two-worker dask cluster (``cluster``,
tests/kg/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client

SUBJECT = "https://w3id.org/igkg/id/subject/"


def igkg(*args: str, store: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IGKG_STORE": str(store)}
    env.pop("IGKG_DASK_SCHEDULER", None)
    result = subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, env=env, timeout=600, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"igkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def table(shared_data: Path) -> Path:
    return shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, table: Path) -> Path:
    folder = tmp_path_factory.mktemp("cli-matrix") / "store"
    done = igkg("load", str(table), "--kind", "radiomics-csv", "--values", "columnar", "--cohort", "NSCLC", store=folder)
    assert "radiomics matrix 'features': 117 x 107" in done.stdout
    return folder


def test_matrix_to_csv_gives_the_loaded_values_exactly(store: Path, table: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    igkg("matrix", "--output", str(out), store=store)
    raw = pd.read_csv(table, dtype=str, keep_default_na=False)
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got.columns[0] == "subject"
    features = [c for c in raw.columns if c.startswith("original_")]
    assert list(got.columns[1:]) == features
    got = got.set_index(got["subject"].str.removeprefix(SUBJECT)).loc[raw["Case ID"]]
    for column in features:  # the same float64 as the CSV's text, cell by cell (empty = missing)
        expected = [float(v) if v else np.nan for v in raw[column]]
        written = [float(v) if v else np.nan for v in got[column]]
        np.testing.assert_array_equal(written, expected, err_msg=column)


def test_matrix_kinds_globs_cohort_and_parquet(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "glcm.parquet"
    igkg("matrix", "--kind", "radiomics", "--cohort", "NSCLC", "--features", "original_glcm_*", "-o", str(out), store=store)
    frame = pd.read_parquet(out)
    assert frame.shape == (117, 1 + 24) and all(c.startswith("original_glcm_") for c in frame.columns[1:])
    markers = tmp_path / "markers.csv"
    igkg("matrix", "--kind", "markers", "-o", str(markers), store=store)
    assert set(pd.read_csv(markers)["EGFR mutation status"].dropna()) == {0.0, 1.0}
    failed = igkg("matrix", "--kind", "expression", "-o", str(tmp_path / "x.csv"), store=store, check=False)
    assert failed.returncode == 1 and "no expression matrix in the store" in failed.stderr
    failed = igkg("matrix", "--cohort", "nobody", "-o", str(tmp_path / "x.csv"), store=store, check=False)
    assert failed.returncode == 1 and "no subjects in cohort 'nobody'" in failed.stderr
    failed = igkg("matrix", "--kind", "radiomics", "-o", str(tmp_path / "x.xlsx"), store=store, check=False)
    assert failed.returncode == 1 and ".csv, .tsv or .parquet" in failed.stderr


def test_associate_on_the_cluster_writes_the_local_p_values(cluster: Client, store: Path, tmp_path: Path) -> None:
    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    igkg("associate", "--marker", "EGFR", "--no-graph", "--output", str(local), store=store)
    igkg("associate", "--marker", "EGFR", "--no-graph", "--output", str(remote), "--scheduler", cluster.scheduler.address,
         store=store)
    assert local.read_text() == remote.read_text()
    assert len(pd.read_csv(remote)) == 107
