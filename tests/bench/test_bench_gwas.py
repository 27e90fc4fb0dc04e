"""The GWAS bench step at small sizes: its four rows, bounded memory, the dask run equal to the local one."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from bench import bench_gwas
from kg.analysis.gwas import linear_gwas


def test_the_gwas_bench_step_runs_small() -> None:
    rows = bench_gwas.run(quick=True)
    assert [r["section"] for r in rows] == ["gwas"] * 4
    timing, loop, memory, dask = rows
    assert timing["igkg"] > 0 and timing["baseline"] > 0 and "80,000 result rows" in timing["note"]
    assert loop["baseline"] > loop["igkg"]  # a statsmodels fit per test is slower than the whole run
    assert memory["ok"] is True and dask["ok"] is True


def test_the_synthetic_source_gives_statsmodels_numbers() -> None:
    source = bench_gwas.SyntheticGenotypes(200, 3000)
    phenotypes, covariates = bench_gwas._tables(200, 2)
    result = linear_gwas(source, phenotypes, covariates)
    assert len(result) == 2 * 3000
    row = result[(result["feature"] == phenotypes.columns[1]) & (result["variant"] == "v2049")].iloc[0]
    dosage = source.read(2048, 2050)[:, 1]  # v2049 is the second variant of the second block
    fit = sm.OLS(phenotypes.iloc[:, 1].to_numpy(), sm.add_constant(np.column_stack([covariates.to_numpy(), dosage]))).fit()
    np.testing.assert_allclose([row["beta"], row["se"], row["p"]], [fit.params[-1], fit.bse[-1], fit.pvalues[-1]], rtol=1e-8)
