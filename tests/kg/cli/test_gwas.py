"""``igkg gwas`` end to end in a subprocess: the output columns, every test stored with --p-max 1, the same
numbers on a two-worker dask cluster (up to summation order: BLAS adds in another order with another thread count)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kg import KnowledgeGraph
from loaders._genotypes import open_plink

COLUMNS = ["feature", "variant", "chrom", "pos", "effect_allele", "other_allele", "eaf", "beta", "se", "p", "n"]
FEATURES = {"Y1": "original_shape_MeshVolume", "Y2": "original_firstorder_Mean"}


def igkg(*args: str, store: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "kg.cli", "--store", str(store), *args], check=False, capture_output=True, text=True,
                            env={**os.environ}, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"igkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("gwas-cli")
    example = shared_data / "genotypes" / "regenie_example"
    phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").rename(columns=FEATURES).drop(columns="FID")
    phenotypes.to_csv(folder / "features.csv", index=False)
    location = folder / "store"
    with KnowledgeGraph(location) as kg:
        kg.load(example / "example.bed", build="GRCh37")
        kg.load(folder / "features.csv", kind="radiomics-csv")  # keyed by IID, found without --id-column
    # REGENIE's covariate file as it is (blank-separated, FID IID V1 V2 V3), no options
    said = igkg("load", str(example / "covariates.txt"), "--kind", "clinical", store=location).stdout
    assert "500 records" in said and "subject ids from 'IID'" in said
    return location


def test_gwas_writes_every_test_and_stores_them_with_p_max_1(store: Path, tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "gwas.csv"
    result = igkg("gwas", "--covariates", "V1,V2,V3", "--p-max", "1", "--output", str(out), store=store)
    said = result.stdout + result.stderr
    assert "2000 tests" in said and "no multiple-testing correction" in said
    table = pd.read_csv(out, dtype={"variant": str, "effect_allele": str, "other_allele": str})
    assert list(table.columns) == COLUMNS
    assert set(table["feature"]) == set(FEATURES.values()) and len(table) == 2000
    assert (table["n"] == 500).all()
    # the covariates as read from REGENIE's blank-separated file give statsmodels' OLS numbers
    example = shared_data / "genotypes" / "regenie_example"
    covariates = pd.read_csv(example / "covariates.txt", sep=" ").set_index("IID")[["V1", "V2", "V3"]]
    phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").set_index("IID").rename(columns=FEATURES)
    source = open_plink(example / "example.bed")
    ids = source.variants["id"].astype(str).tolist()
    strongest = table.sort_values("p").iloc[0]
    for feature, variant in [(strongest["feature"], strongest["variant"]), (FEATURES["Y1"], ids[10]), (FEATURES["Y2"], ids[700])]:
        index = ids.index(variant)
        dosage = source.read(index, index + 1)[:, 0]
        dosage = pd.Series(np.where(np.isnan(dosage), np.nanmean(dosage), dosage), index=source.samples["iid"].astype(int), name="dosage")
        data = covariates.join(phenotypes[feature]).join(dosage).dropna()
        fit = sm.OLS(data[feature], sm.add_constant(data[["V1", "V2", "V3", "dosage"]])).fit()
        row = table[(table["feature"] == feature) & (table["variant"] == variant)].iloc[0]
        np.testing.assert_allclose([row["beta"], row["se"], row["p"]],
                                   [fit.params["dosage"], fit.bse["dosage"], fit.pvalues["dosage"]], rtol=1e-6)
    with KnowledgeGraph(store, read_only=True) as kg:
        n = kg.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a igkg:RadiogenomicAssociation ; prov:wasGeneratedBy ?r . ?r a igkg:GwasRun }")
        assert int(n["n"].iloc[0]) == len(table)


def test_unknown_covariate_is_one_clear_line(store: Path) -> None:
    result = igkg("gwas", "--covariates", "V1,AGE", store=store, check=False)
    assert result.returncode == 1
    assert "covariate(s) AGE not in any clinical table" in result.stdout + result.stderr


def test_dask_scheduler_gives_identical_numbers(store: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    local = tmp_path / "local.parquet"
    igkg("gwas", "--covariates", "V1,V2,V3", "--p-max", "1e-3", "--output", str(local), store=store)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = tmp_path / "dask.parquet"
        igkg("gwas", "--covariates", "V1,V2,V3", "--p-max", "1e-3", "--output", str(remote), "--scheduler", cluster.scheduler_address,
             store=store)
    # same rows in the same order; numbers equal up to BLAS summation order (workers run 1-thread BLAS)
    a, b = pd.read_parquet(local), pd.read_parquet(remote)
    pd.testing.assert_frame_equal(a.drop(columns=["beta", "se", "p"]), b.drop(columns=["beta", "se", "p"]))
    assert (abs(a["beta"] - b["beta"]) / a["se"]).max() <= 1e-10
    assert (abs(a["se"] - b["se"]) / a["se"]).max() <= 1e-10 and (abs(a["p"] - b["p"]) / a["p"]).max() <= 1e-8


def test_matrix_kinds_gwas_and_genotypes_by_variant_glob(shared_data: Path, tmp_path: Path) -> None:
    import numpy as np

    from loaders._genotypes import open_plink

    example = shared_data / "genotypes" / "regenie_example"
    location = tmp_path / "store"
    with KnowledgeGraph(location) as kg:
        kg.load(example / "example.bed", build="GRCh37")
        features = pd.read_csv(example / "phenotype.txt", sep=" ").rename(columns=FEATURES).drop(columns="FID")
        features.to_csv(tmp_path / "features.csv", index=False)
        kg.load(tmp_path / "features.csv", kind="radiomics-csv", id_column="IID")
    igkg("gwas", "--p-max", "1e-3", "--output", str(tmp_path / "all.csv"), store=location)
    igkg("matrix", "--kind", "gwas", "-o", str(tmp_path / "gwas.csv"), store=location)
    stored = pd.read_csv(tmp_path / "gwas.csv", dtype={"variant": str})
    written = pd.read_csv(tmp_path / "all.csv", dtype={"variant": str})
    assert len(stored) == len(written) == 2 * 1000
    merged = stored.merge(written, on=["feature", "variant"], suffixes=("", "_csv"))
    np.testing.assert_allclose(merged["beta"], merged["beta_csv"], rtol=1e-12)
    refused = igkg("matrix", "--kind", "genotypes", "-o", str(tmp_path / "g.csv"), store=location, check=False)
    assert refused.returncode == 1 and "by variable" in refused.stderr and "--features" in refused.stderr
    igkg("matrix", "--kind", "genotypes", "--features", "1?", "-o", str(tmp_path / "g.csv"), store=location)
    dosages = pd.read_csv(tmp_path / "g.csv")
    assert list(dosages.columns[1:]) == [str(i) for i in range(10, 20)]
    source = open_plink(example / "example.bed")
    expected = source.read(9, 19)  # variants 10..19 of the .bim, samples in .fam order
    by_iid = dict(zip(source.samples["iid"].astype(str), expected, strict=True))
    for _, row in dosages.iterrows():
        np.testing.assert_allclose(row.iloc[1:].to_numpy(float), by_iid[row["subject"].rsplit("/", 1)[-1]], equal_nan=True)
