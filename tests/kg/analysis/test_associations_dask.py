"""Associations on a real local dask cluster (``cluster``: tests/kg/conftest.py) give the local numbers.

The features come from the columnar data plane (NSCLC Radiogenomics, loaded ``--values
columnar``); the EGFR marker from the graph. Targets for the correlation methods are the
other features of the same table (real data, not generated).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client
from scipy import stats

from kg.analysis.associations import benjamini_hochberg, imaging_features, marker_targets, run_analysis
from kg.analysis.associations.distributed import associate_tiled
from kg.store import KnowledgeGraph


@pytest.fixture(scope="module")
def nsclc_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> KnowledgeGraph:
    kg = KnowledgeGraph(tmp_path_factory.mktemp("store") / "igkg")
    kg.load(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv", kind="radiomics-csv",
            values="columnar", cohort="NSCLC")
    yield kg
    kg.close()


def test_marker_run_on_the_cluster_equals_the_local_run(cluster: Client, nsclc_store: KnowledgeGraph, shared_data: Path) -> None:
    local = run_analysis(nsclc_store, markers=["EGFR"], q_max=1.0).results
    remote = run_analysis(nsclc_store, markers=["EGFR"], q_max=1.0, scheduler=cluster.scheduler.address).results
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    assert remote.attrs["tests"] == local.attrs["tests"] == len(local) > 100
    raw = pd.read_csv(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv")
    status = pd.to_numeric(raw["EGFR mutation status"], errors="coerce")  # 1 mutant, 0 wild type
    row = remote.iloc[0]
    known = raw[status.notna() & raw[row.feature].notna()]
    expected = stats.mannwhitneyu(known[row.feature][status[known.index] == 1], known[row.feature][status[known.index] == 0])
    assert row.p == pytest.approx(expected.pvalue, rel=1e-9)


@pytest.mark.parametrize("method", ["spearman", "pearson", "mannwhitney"])
def test_small_tiles_on_two_workers_are_exact_and_fdr_is_global(cluster: Client, nsclc_store: KnowledgeGraph, method: str) -> None:
    features = imaging_features(nsclc_store).features
    if method == "mannwhitney":
        targets = marker_targets(nsclc_store, ["EGFR"]).targets
    else:
        targets, features = features.iloc[:, :9], features.iloc[:, 9:]
    local = associate_tiled(features, targets, method=method, q_max=1.0, feature_tile=17, target_tile=4)
    remote = associate_tiled(features, targets, method=method, q_max=1.0, feature_tile=17, target_tile=4, client=cluster)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    assert len(cluster.scheduler_info()["workers"]) == 2
    # BH over the whole analysis, not per tile
    np.testing.assert_array_equal(remote["q"].to_numpy(), benjamini_hochberg(remote["p"].to_numpy(), remote.attrs["tests"]))
    significant = associate_tiled(features, targets, method=method, q_max=0.05, only_significant=True,
                                  feature_tile=17, target_tile=4, client=cluster)
    expected = remote[remote["q"] <= 0.05].reset_index(drop=True)
    pd.testing.assert_frame_equal(significant, expected, check_exact=True, check_dtype=not expected.empty)


def test_the_setting_names_the_scheduler(cluster: Client, nsclc_store: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGKG_DASK_SCHEDULER", cluster.scheduler.address)
    before = sum(cluster.run(_executed).values())
    remote = run_analysis(nsclc_store, markers=["EGFR"], q_max=1.0).results
    after = sum(cluster.run(_executed).values())
    assert after > before  # the tiles ran on the cluster
    monkeypatch.delenv("IGKG_DASK_SCHEDULER")
    pd.testing.assert_frame_equal(run_analysis(nsclc_store, markers=["EGFR"], q_max=1.0).results, remote, check_exact=True)


def _executed(dask_worker: object) -> int:
    return int(dask_worker.state.executed_count)  # type: ignore[attr-defined]
