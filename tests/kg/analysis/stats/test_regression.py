"""Covariate-adjusted association on the NSCLC-Radiogenomics table against statsmodels and pingouin.

Every pair is compared: OLS / Logit via statsmodels formulas (their own design coding, their own
missing-value dropping), Spearman partial correlation via pingouin.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import statsmodels.formula.api as smf
from scipy import stats

from kg.analysis.stats.design import binary_marker, subject_variable
from kg.analysis.stats.regression import (
    LINEAR_COLUMNS,
    LOGISTIC_COLUMNS,
    SPEARMAN_COLUMNS,
    bh_fdr,
    linear_association,
    logistic_association,
    partial_spearman,
)

RTOL = 1e-6


def _short(frame: pd.DataFrame) -> pd.DataFrame:
    """Covariates renamed for formulas."""
    names = {
        "Age at Histological Diagnosis": "age",
        "Gender": "sex",
        "Smoking status": "smoking",
        "Patient affiliation": "site",
    }
    return frame.rename(columns=names)


def _formula_rhs(columns: list[str]) -> str:
    return " + ".join(f"C({c})" if c in {"sex", "smoking", "site"} else c for c in columns)


def _ols_reference(y: pd.Series, x: pd.Series, covariates: pd.DataFrame):
    data = pd.concat([y.rename("y"), x.rename("x"), covariates], axis=1).dropna()
    fit = smf.ols(f"y ~ x + {_formula_rhs(list(covariates.columns))}", data).fit()
    return fit.params["x"], fit.bse["x"], fit.tvalues["x"], fit.pvalues["x"], int(fit.nobs), fit.df_resid


def _assert_close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0, err_msg=what)


def test_linear_equals_statsmodels_ols_on_every_pair(nsclc):
    covariates = nsclc.table[["Gender", "Smoking status"]]
    target = nsclc.table[["EGFR mutation status"]]
    result = linear_association(nsclc.features, target, covariates=covariates)
    assert list(result.columns) == LINEAR_COLUMNS
    assert len(result) == nsclc.features.shape[1]
    ref_cov = _short(covariates)
    for row in result.itertuples():
        beta, se, t, p, n, df = _ols_reference(nsclc.features[row.feature], target.iloc[:, 0], ref_cov)
        _assert_close([row.beta, row.se, row.t, row.p], [beta, se, t, p], row.feature)
        assert (row.n, row.df) == (n, df) == (117, 117 - 5)
    assert result["model"].iloc[0] == "OLS: feature ~ target + Gender + Smoking status"
    np.testing.assert_allclose(result["q"], stats.false_discovery_control(result["p"]), rtol=1e-12)


def test_linear_drops_subjects_per_pair_with_clinical_covariates(nsclc):
    """Targets from the TCIA table with their own missing values; covariates age, sex, smoking, site."""
    clinical = nsclc.clinical
    covariates = clinical[
        ["Age at Histological Diagnosis", "Gender", "Smoking status", "Patient affiliation"]
    ]
    targets = pd.DataFrame(
        {
            "EGFR": binary_marker(clinical["EGFR mutation status"]),
            "KRAS": binary_marker(clinical["KRAS mutation status"]),
            "Pack Years": subject_variable(clinical["Pack Years"]),
            "Weight (lbs)": subject_variable(clinical["Weight (lbs)"]),
        }
    )
    assert targets.isna().sum().nunique() > 1  # different missingness per target
    features = nsclc.features.iloc[:, ::3]
    result = linear_association(features, targets, covariates=covariates)
    ref_cov = _short(covariates)
    seen_n = set()
    for row in result.itertuples():
        beta, se, t, p, n, _ = _ols_reference(features[row.feature], targets[row.target], ref_cov)
        _assert_close([row.beta, row.se, row.t, row.p], [beta, se, t, p], f"{row.feature} ~ {row.target}")
        assert row.n == n
        seen_n.add(n)
    assert len(seen_n) > 2
    # the roles swapped: features with missing values (per-feature patterns), a radiomic target
    swapped = linear_association(
        targets, nsclc.features[["original_shape_Sphericity"]], covariates=covariates
    )
    for row in swapped.itertuples():
        beta, se, _, p, n, _ = _ols_reference(targets[row.feature], nsclc.features[row.target], ref_cov)
        _assert_close([row.beta, row.se, row.p], [beta, se, p], f"{row.feature} ~ {row.target}")
        assert row.n == n


def test_linear_without_covariates_is_simple_regression(nsclc):
    x = nsclc.table["EGFR mutation status"]
    result = linear_association(nsclc.features.iloc[:, :10], x)
    for row in result.itertuples():
        ref = stats.linregress(x, nsclc.features[row.feature])
        _assert_close([row.beta, row.se, row.p], [ref.slope, ref.stderr, ref.pvalue], row.feature)


def test_logistic_equals_statsmodels_logit(nsclc):
    clinical = nsclc.clinical
    marker = binary_marker(clinical["EGFR mutation status"])
    covariates = clinical[["Age at Histological Diagnosis", "Gender", "Smoking status"]]
    result = logistic_association(nsclc.features, marker, covariates=covariates)
    assert list(result.columns) == LOGISTIC_COLUMNS
    ref_cov = _short(covariates)
    compared = 0
    for row in result.itertuples():
        data = pd.concat(
            [marker.rename("y"), nsclc.features[row.feature].rename("x"), ref_cov], axis=1
        ).dropna()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = smf.logit(f"y ~ x + {_formula_rhs(list(ref_cov.columns))}", data).fit(disp=0, maxiter=100)
        if not fit.mle_retvals["converged"]:
            continue
        assert row.converged, row.feature
        _assert_close(
            [row.beta, row.se, row.z, row.p],
            [fit.params["x"], fit.bse["x"], fit.tvalues["x"], fit.pvalues["x"]],
            row.feature,
        )
        assert (row.n, row.n_positive) == (int(fit.nobs), int(data["y"].sum()))
        compared += 1
    assert compared >= 100


def test_logistic_reports_separation_instead_of_a_p_value(nsclc):
    """ALK: 2 translocated of 111 known, none among current smokers -> quasi-complete separation."""
    clinical = nsclc.clinical
    marker = binary_marker(clinical["ALK translocation status"])
    covariates = clinical[["Gender", "Smoking status"]]
    assert pd.crosstab(marker, clinical["Smoking status"]).loc[1.0, "Current"] == 0
    features = nsclc.features.iloc[:, :12]
    result = logistic_association(features, marker, covariates=covariates)
    assert not result["converged"].any()
    assert result["p"].isna().all() and result["se"].isna().all() and result["q"].isna().all()
    assert result["note"].str.contains("separation").all()
    # statsmodels does not converge on these either
    data = pd.concat(
        [marker.rename("y"), features.iloc[:, 0].rename("x"), _short(covariates)], axis=1
    ).dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.logit("y ~ x + C(sex) + C(smoking)", data).fit(disp=0, maxiter=100)
    assert not fit.mle_retvals["converged"]
    # without the covariate that separates, the same marker fits
    plain = logistic_association(features, marker)
    assert plain["converged"].all() and plain["p"].notna().all()


def test_logistic_marks_a_constant_feature_whose_rounded_mean_is_not_exact(nsclc):
    """0.1 repeated: its mean is not exactly 0.1, so the computed sd is tiny, not 0; still no p-value."""
    marker = binary_marker(nsclc.clinical["EGFR mutation status"])
    features = nsclc.features.iloc[:, :3].copy()
    features["constant"] = 0.1
    gappy = features["constant"].copy()
    gappy.iloc[::7] = np.nan  # the per-feature (missing values) path too
    features["constant with gaps"] = gappy
    result = logistic_association(features, marker).set_index("feature")
    for name in ("constant", "constant with gaps"):
        assert result.loc[name, "note"] == "feature constant"
        assert np.isnan(result.loc[name, "p"]) and not result.loc[name, "converged"]
    alone = logistic_association(nsclc.features.iloc[:, :3], marker).set_index("feature")
    np.testing.assert_allclose(result.loc[alone.index, "p"], alone["p"], rtol=1e-12)


def test_partial_spearman_equals_pingouin(nsclc):
    clinical = nsclc.clinical
    covariates = clinical[["Age at Histological Diagnosis", "Gender", "Smoking status"]]
    targets = pd.DataFrame(
        {
            "EGFR": binary_marker(clinical["EGFR mutation status"]),
            "Pack Years": subject_variable(clinical["Pack Years"]),
        }
    )
    features = nsclc.features.iloc[:, ::4]
    result = partial_spearman(features, targets, covariates=covariates)
    assert list(result.columns) == SPEARMAN_COLUMNS
    dummies = pd.get_dummies(_short(covariates), columns=["sex", "smoking"], drop_first=True, dtype=float)
    for row in result.itertuples():
        data = pd.concat(
            [features[row.feature].rename("x"), targets[row.target].rename("y"), dummies], axis=1
        ).dropna()
        # pack years are missing for every non-smoker: that dummy is constant there and left out
        varying = [c for c in dummies.columns if data[c].nunique() > 1]
        ref = pingouin.partial_corr(data=data, x="x", y="y", covar=varying, method="spearman")
        _assert_close(
            [row.r, row.p], [ref["r"].iloc[0], ref["p_val"].iloc[0]], f"{row.feature} ~ {row.target}"
        )
        assert row.n == ref["n"].iloc[0]
    # no covariates: Spearman's rho and scipy's p-value
    plain = partial_spearman(features, targets[["EGFR"]])
    for row in plain.itertuples():
        ref = stats.spearmanr(features[row.feature], targets["EGFR"])
        _assert_close([row.r, row.p], [ref.statistic, ref.pvalue], row.feature)


def test_bh_fdr_keeps_nan_out_of_the_count():
    p = np.array([0.001, np.nan, 0.02, 0.04, np.nan, 0.3])
    q = bh_fdr(p)
    assert np.isnan(q[[1, 4]]).all()
    np.testing.assert_allclose(q[~np.isnan(p)], stats.false_discovery_control(p[~np.isnan(p)]))


def test_a_large_screen_on_worker_threads_equals_the_serial_run_and_statsmodels(monkeypatch) -> None:
    """ImaGene's lung pair, 1,522 features x 2,000 genes x 44 subjects: above the size where the pair
    loop runs on threads. The table equals the one-thread run, sampled pairs equal statsmodels OLS."""
    import kg.analysis.stats.regression as regression

    folder = Path(__file__).resolve().parents[4] / "examples" / "data" / "imagene_lung"
    features = pd.read_csv(folder / "Lung_radiomic_features_new_cohort_n44.csv", index_col=0)
    genes = pd.read_csv(folder / "Lung_gene_expression_new_cohort_n44.csv", index_col=0).iloc[:, :2000]
    assert regression._workers(len(features) * features.shape[1] * genes.shape[1]) > 1 or (os.cpu_count() or 1) == 1
    threaded = linear_association(features, genes)
    monkeypatch.setattr(regression, "_workers", lambda work: 1)
    serial = linear_association(features, genes)
    assert threaded[["feature", "target", "n"]].equals(serial[["feature", "target", "n"]])
    for column in ("beta", "se", "t", "p", "q"):
        np.testing.assert_allclose(threaded[column].to_numpy(), serial[column].to_numpy(), rtol=1e-12, err_msg=column)
    rng = np.random.default_rng(7)
    for i in rng.choice(len(threaded), size=12, replace=False):
        row = threaded.iloc[i]
        data = pd.concat([features[row["feature"]].rename("y"), genes[row["target"]].rename("x")], axis=1).dropna()
        fit = smf.ols("y ~ x", data).fit()
        _assert_close([row["beta"], row["se"], row["p"]], [fit.params["x"], fit.bse["x"], fit.pvalues["x"]], (row["feature"], row["target"]))
        assert row["n"] == int(fit.nobs)
