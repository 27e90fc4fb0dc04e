"""Covariate-adjusted associations: linear and logistic models, partial Spearman.

``linear``: ``feature ~ 1 + target + covariates`` (t-test of the target); ``logistic``:
``marker ~ 1 + feature + covariates`` (Wald test of the feature, binary markers); ``spearman``
with covariates: Spearman partial correlation (t-test). Categorical covariates are treatment-coded
dummies; subjects missing a value in the model are dropped per test (``n``); a logistic fit that
does not converge (separation) keeps its row with a note and no p-value. The numbers come from
:mod:`kg.analysis.stats.regression`; this module maps them onto the engine's result columns
(``statistic``: t, z or r; ``effect_size``: beta, odds ratio or r) and corrects over all tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kg.analysis.associations.kernels import METHODS, Method
from kg.core.errors import AssociationError
from kg.core.namespaces import IGKG

__all__ = ["ADJUSTED_METHODS", "REGRESSION_METHODS", "adjusted_associate", "method_spec"]

REGRESSION_METHODS: dict[str, Method] = {
    "linear": Method("linear", "linear regression (OLS), t-test of the target", IGKG.LinearRegressionTest, "any", effect="beta"),
    "logistic": Method("logistic", "logistic regression, Wald test of the feature", IGKG.LogisticRegressionWaldTest, "binary", effect="odds ratio"),
}
"""The model-based methods of ``igkg associate --method`` (STATO has no verified term for them here)."""

ADJUSTED_METHODS = ("linear", "logistic", "spearman")
"""Methods that take ``--covariates``."""


def method_spec(name: str) -> Method:
    """The ``Method`` of any ``--method`` value (rank-based or model-based).

    >>> method_spec("logistic").effect, method_spec("spearman").name
    ('odds ratio', 'spearman')
    """
    if name in REGRESSION_METHODS:
        return REGRESSION_METHODS[name]
    return METHODS[name]


def adjusted_associate(
    features: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    method: str,
    covariates: pd.DataFrame | None,
    min_n: int = 10,
) -> pd.DataFrame:
    """Every feature x target under ``method`` with ``covariates``; engine columns plus the model's.

    Columns: ``feature, target, method, statistic, effect_size, p, q, bonferroni, n`` then
    ``beta, se, df, converged, note, model, test`` (as the model has them). A pair with fewer
    than ``min_n`` subjects has no p-value (note). ``q``: Benjamini-Hochberg over every test
    with a p-value; ``bonferroni``: p times that number (at most 1). ``attrs`` hold ``tests``
    and ``subjects``.

    >>> f = pd.DataFrame({"volume": [2.0, 3.1, 4.2, 4.9, 6.3, 6.8, 8.1]}, index=list("abcdefg"))
    >>> t = pd.DataFrame({"EGFR": [1.0, 2, 3, 4, 5, 6, 7]}, index=list("abcdefg"))
    >>> c = pd.DataFrame({"Sex": ["F", "M", "F", "M", "F", "M", "F"]}, index=list("abcdefg"))
    >>> adjusted_associate(f, t, method="linear", covariates=c, min_n=5)[["statistic", "effect_size", "n"]].round(3).values.tolist()
    [[34.048, 0.993, 7.0]]
    """
    # imported here: the regression module loads scipy.stats and scipy.optimize (start-up of every command)
    from kg.analysis.stats.regression import (
        bh_fdr,
        linear_association,
        logistic_association,
        partial_spearman,
    )

    if method == "linear":
        raw = linear_association(features, targets, covariates=covariates)
        statistic, effect = raw["t"], raw["beta"]
    elif method == "logistic":
        raw = logistic_association(features, targets, covariates=covariates)
        statistic, effect = raw["z"], raw["odds_ratio"]
    elif method == "spearman":
        raw = partial_spearman(features, targets, covariates=covariates)
        statistic, effect = raw["r"], raw["r"]
    else:
        raise AssociationError(f"--covariates need --method linear, logistic or spearman, not {method}")
    p = raw["p"].to_numpy(dtype=float).copy()
    n = raw["n"].to_numpy()
    small = n < min_n
    p[small] = np.nan
    note = raw["note"].astype(object).where(~small, f"fewer than --min-n {min_n} subjects; not tested")
    tested = np.isfinite(p)
    q = np.full(len(p), np.nan)
    if tested.any():
        q[tested] = bh_fdr(p[tested])
    m = int(tested.sum())
    out = pd.DataFrame({
        "feature": raw["feature"].astype(str),
        "target": raw["target"].astype(str),
        "method": method,
        "statistic": statistic.to_numpy(dtype=float),
        "effect_size": effect.to_numpy(dtype=float),
        "p": p,
        "q": q,
        "bonferroni": np.minimum(p * m, 1.0),
        "n": n,
    })
    for column in ("beta", "se", "df", "converged", "n_positive", "iterations"):
        if column in raw.columns:
            out[column] = raw[column].to_numpy()
    out["note"] = note.to_numpy()
    out["model"] = raw["model"].to_numpy()
    out["test"] = raw["test"].to_numpy()
    out = out.sort_values("p", na_position="last", kind="stable").reset_index(drop=True)
    out.attrs["tests"] = m
    out.attrs["subjects"] = int(features.index.union(targets.index).size)
    return out
