"""The linear GWAS kernel against statsmodels OLS, on REGENIE's example genotypes and phenotypes."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm

from kg.analysis.gwas import (
    RESULT_COLUMNS,
    GwasError,
    iter_linear_gwas,
    linear_gwas,
    prepare_design,
    write_results,
)
from loaders._genotypes import open_genotypes

COVARIATES = ["V1", "V2", "V3"]


@pytest.fixture(scope="module")
def regenie(shared_data: Path) -> Path:
    return shared_data / "genotypes" / "regenie_example"


def read_keyed(path: Path) -> pd.DataFrame:
    """A PLINK-style phenotype/covariate file (FID IID ...), indexed by IID."""
    table = pd.read_csv(path, sep=r"\s+", dtype={"FID": str, "IID": str})
    return table.drop(columns="FID").set_index("IID")


@pytest.fixture(scope="module")
def inputs(regenie: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Y1, Y2 and covariates, with holes so features have different subjects (and some none at all)."""
    rng = np.random.default_rng(15)
    pheno = read_keyed(regenie / "phenotype.txt")
    cov = read_keyed(regenie / "covariates.txt")[COVARIATES]
    pheno.loc[pheno.sample(40, random_state=1).index, "Y1"] = np.nan
    pheno.loc[pheno.sample(25, random_state=2).index, "Y2"] = np.nan
    pheno["Y3"] = pheno["Y1"] * 0.5 + rng.normal(size=len(pheno))  # same holes as Y1: one QR for both
    cov.loc[cov.sample(10, random_state=3).index, "V2"] = np.nan
    pheno = pheno.drop(index=pheno.index[:7])  # subjects with genotypes but no phenotype row
    return pheno, cov


@pytest.fixture(scope="module")
def bed_with_missing_calls(regenie: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example .bed with ~3% of calls set to missing (code 01), a real PLINK file."""
    folder = tmp_path_factory.mktemp("bed")
    for suffix in (".bim", ".fam"):
        shutil.copy(regenie / f"example{suffix}", folder / f"example{suffix}")
    raw = bytearray((regenie / "example.bed").read_bytes())
    n, per = 500, math.ceil(500 / 4)
    rng = np.random.default_rng(7)
    for variant, sample in zip(rng.integers(0, 1000, 15000), rng.integers(0, n, 15000), strict=True):
        at = 3 + variant * per + sample // 4
        shift = 2 * (sample % 4)
        raw[at] = (raw[at] & ~(3 << shift) & 0xFF) | (1 << shift)
    (folder / "example.bed").write_bytes(bytes(raw))
    return folder / "example.bed"


def statsmodels_fit(y: pd.Series, cov: pd.DataFrame, dosage: pd.Series) -> tuple[float, float, float, int, float]:
    """OLS y ~ 1 + covariates + dosage on complete subjects; missing dosage mean-imputed over them."""
    frame = pd.concat([y.rename("y"), cov, dosage.rename("g")], axis=1, join="inner")
    frame = frame.dropna(subset=["y", *cov.columns])
    eaf = frame["g"].mean() / 2
    frame["g"] = frame["g"].fillna(frame["g"].mean())
    fit = sm.OLS(frame["y"], sm.add_constant(frame[[*cov.columns, "g"]])).fit()
    return fit.params["g"], fit.bse["g"], fit.pvalues["g"], int(fit.nobs), eaf


def test_matches_statsmodels_on_sampled_variants(bed_with_missing_calls: Path, inputs) -> None:  # type: ignore[no-untyped-def]
    pheno, cov = inputs
    with open_genotypes(bed_with_missing_calls) as source:
        results = linear_gwas(source, pheno, cov, block_size=300)
        assert tuple(results.columns) == RESULT_COLUMNS
        assert len(results) == 3 * 1000
        dosages = pd.DataFrame(source.read(0, 1000), index=source.samples["iid"], columns=source.variants["id"])
    assert dosages.isna().to_numpy().mean() == pytest.approx(0.03, abs=0.005)
    rng = np.random.default_rng(3)
    checked = 0
    for variant in rng.choice(dosages.columns, 25, replace=False):
        for feature in ("Y1", "Y2", "Y3"):
            beta, se, p, n, eaf = statsmodels_fit(pheno[feature], cov, dosages[variant])
            row = results[(results["feature"] == feature) & (results["variant"] == variant)].iloc[0]
            assert row["beta"] == pytest.approx(beta, rel=1e-6)
            assert row["se"] == pytest.approx(se, rel=1e-6)
            assert row["p"] == pytest.approx(p, rel=1e-6)
            assert row["n"] == n
            assert row["eaf"] == pytest.approx(eaf, rel=1e-12)
            assert row["effect_allele"] == "1" and row["other_allele"] == "2"
            checked += 1
    assert checked == 75
    # n says who was dropped: 500 - 7 without a phenotype row - holes in Y and in V2
    by_feature = results.groupby("feature", observed=True)["n"].unique()
    assert all(len(values) == 1 for values in by_feature)
    assert by_feature["Y2"][0] > by_feature["Y1"][0]


def test_tiny_p_values_keep_their_precision(regenie: Path) -> None:
    """A feature made from a variant gives p far below 1e-16: still equal to statsmodels."""
    with open_genotypes(regenie / "example.bed") as source:
        g = pd.Series(source.read(0, 1)[:, 0], index=source.samples["iid"])
        noise = np.random.default_rng(0).normal(size=len(g))
        pheno = pd.DataFrame({"strong": g * 2.0 + noise}, index=g.index)
        results = linear_gwas(source, pheno, None, block_size=1000, log10_p=True)
    row = results[results["variant"] == source.variants["id"].iloc[0]].iloc[0]
    fit = sm.OLS(pheno["strong"], sm.add_constant(g.rename("g"))).fit()
    assert row["p"] < 1e-50
    assert row["p"] == pytest.approx(fit.pvalues["g"], rel=1e-6)
    assert row["log10_p"] == pytest.approx(math.log10(fit.pvalues["g"]), rel=1e-9)


def test_streams_to_parquet_and_csv(regenie: Path, inputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pheno, cov = inputs
    with open_genotypes(regenie / "example.bgen", id_delim="_") as source:
        expected = linear_gwas(source, pheno, cov, block_size=256)
        rows = write_results(iter_linear_gwas(source, pheno, cov, block_size=256), tmp_path / "gwas.parquet")
        write_results(iter_linear_gwas(source, pheno, cov, block_size=256), tmp_path / "gwas.csv")
    assert rows == len(expected) == 3000
    parquet = pq.ParquetFile(tmp_path / "gwas.parquet")
    assert parquet.metadata.num_row_groups == 4  # one per block
    back = parquet.read().to_pandas()
    assert list(back.columns) == list(RESULT_COLUMNS)
    for column in ("beta", "se", "p", "eaf"):
        np.testing.assert_array_equal(back[column].to_numpy(), expected[column].to_numpy())
    assert back["variant"].astype(str).tolist() == expected["variant"].astype(str).tolist()
    csv = pd.read_csv(tmp_path / "gwas.csv", dtype={"variant": str, "chrom": str})
    np.testing.assert_allclose(csv["beta"], expected["beta"], rtol=1e-9)
    assert not (tmp_path / "gwas.parquet.partial").exists()


def test_bgen_and_plink_runs_agree(regenie: Path, inputs) -> None:  # type: ignore[no-untyped-def]
    pheno, cov = inputs
    with open_genotypes(regenie / "example.bed") as plink, open_genotypes(regenie / "example.bgen", id_delim="_") as bgen:
        a = linear_gwas(plink, pheno, cov, block_size=500)
        b = linear_gwas(bgen, pheno, cov, block_size=128)
    key = ["feature", "variant"]
    a = a.astype({"feature": str, "variant": str}).sort_values(key).reset_index(drop=True)
    b = b.astype({"feature": str, "variant": str}).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_maf_filter_and_p_filter(regenie: Path, inputs) -> None:  # type: ignore[no-untyped-def]
    pheno, cov = inputs
    with open_genotypes(regenie / "example.bed") as source:
        everything = linear_gwas(source, pheno, cov)
        common = linear_gwas(source, pheno, cov, maf_min=0.2)
        hits = linear_gwas(source, pheno, cov, p_max=0.01)
    maf = np.minimum(everything["eaf"], 1 - everything["eaf"])
    assert len(common) == int((maf >= 0.2).sum()) > 0
    assert (np.minimum(common["eaf"], 1 - common["eaf"]) >= 0.2).all()
    assert len(hits) == int((everything["p"] <= 0.01).sum()) > 0


def test_design_reports_and_refuses(regenie: Path) -> None:
    samples = pd.read_csv(regenie / "example.fam", sep=r"\s+", header=None, dtype=str)
    samples = pd.DataFrame({"fid": samples[0], "iid": samples[1]})
    pheno = read_keyed(regenie / "phenotype.txt")
    cov = read_keyed(regenie / "covariates.txt")[COVARIATES]
    sparse = pheno.assign(Y2=np.nan)
    sparse.loc[sparse.index[:4], "Y2"] = 1.0
    design = prepare_design(samples, sparse, cov)
    assert design.features == ("Y1", "Y2") and "Y2" in design.skipped
    assert [g.features for g in design.groups] == [("Y1",)]
    with pytest.raises(GwasError, match="collinear"):
        prepare_design(samples, pheno, cov.assign(V4=cov["V1"] * 2))
    with pytest.raises(GwasError, match="no subject"):
        prepare_design(samples, pheno.set_axis([f"x{i}" for i in range(len(pheno))]), cov)
    with pytest.raises(GwasError, match="non-number"):
        prepare_design(samples, pheno.assign(Y1=pheno["Y1"].astype(object).where(pheno.index != "3", "high")), cov)
    keyed = pheno.set_index(pheno.index.rename("IID")).assign(FID=pheno.index).set_index("FID", append=True)
    keyed = keyed.reorder_levels(["FID", "IID"])
    assert len(prepare_design(samples, keyed, None, key="fid_iid").sample_index) == 500


def test_threaded_p_values_equal_scipy() -> None:
    from scipy import stats

    from kg.analysis.gwas import two_sided_p

    t = np.random.default_rng(1).standard_t(30, size=(64, 2048)) * 3
    t[0, :4] = [0.0, 40.0, -60.0, np.nan]
    expected = 2 * stats.t.sf(np.abs(t), 30)
    threaded = two_sided_p(t, 30, threads=3)
    np.testing.assert_array_equal(threaded, two_sided_p(t, 30, threads=1))
    np.testing.assert_allclose(threaded, expected, rtol=1e-12, equal_nan=True)
    assert threaded[0, 0] == 1.0 and 0 < threaded[0, 2] < 1e-25
