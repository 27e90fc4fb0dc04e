"""Feature robustness: intraclass correlation across repeated measurements of the same subjects.

Model (McGraw & Wong 1996; Shrout & Fleiss 1979): two-way ANOVA of one feature's values, subjects x
replicates (raters, delineations, test-retest scans), single measures:

* ``agreement``  -- ICC(A,1), two-way random effects, absolute agreement (Shrout-Fleiss ICC(2,1)):
  ``(MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)``; 95% CI from McGraw & Wong's
  approximate F with Satterthwaite degrees of freedom.
* ``consistency`` -- ICC(C,1), two-way mixed effects, consistency (Shrout-Fleiss ICC(3,1)):
  ``(MSR - MSE) / (MSR + (k-1) MSE)``; exact CI from ``F = MSR / MSE``.

``MSR``, ``MSC``, ``MSE``: mean squares of subjects, replicates and residual; ``n`` subjects,
``k`` replicates. The numbers equal pingouin's ``intraclass_corr`` rows ``ICC(A,1)`` and
``ICC(C,1)`` (and R psych ``ICC``). Each feature uses the replicates that measured it; a subject
missing any of them is dropped for that feature (complete cases, as pingouin's
``nan_policy="omit"``), and ``n`` says how many remain. No test or multiple-testing correction:
the ICC is an estimate with its interval.

Computed for all features at once: features sharing the same complete subjects and replicates
form one (features x subjects x replicates) array.

>>> import pandas as pd
>>> long = pd.DataFrame({
...     "subject": ["a", "a", "b", "b", "c", "c", "d", "d"],
...     "reader": ["r1", "r2"] * 4,
...     "feature": "volume",
...     "value": [10.0, 11.0, 20.0, 19.5, 30.0, 32.0, 15.0, 15.5],
... })
>>> icc(long, subject="subject", replicate="reader", feature="feature", value="value").round(3)
  feature    icc  ci_low  ci_high  n
0  volume  0.991   0.901    0.999  4
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .errors import StatsError

__all__ = ["ICC_COLUMNS", "ICC_METHODS", "icc"]

logger = logging.getLogger(__name__)

ICC_COLUMNS = ["feature", "icc", "ci_low", "ci_high", "n"]
"""Columns of :func:`icc`."""

ICC_METHODS = {
    "agreement": "ICC(A,1): two-way random effects, absolute agreement, single measures (McGraw & Wong 1996; Shrout-Fleiss ICC(2,1))",
    "consistency": "ICC(C,1): two-way mixed effects, consistency, single measures (McGraw & Wong 1996; Shrout-Fleiss ICC(3,1))",
}
"""What each ``kind`` computes (also in the result's ``attrs["method"]``)."""


def _long_to_cube(
    table: pd.DataFrame, subject: Hashable, replicate: Hashable, feature: Hashable, value: Hashable
) -> tuple[np.ndarray, pd.Index, pd.Index, pd.Index]:
    """(features x subjects x replicates) array with NaN where a measurement is absent."""
    for column in (subject, replicate, feature, value):
        if column not in table.columns:
            raise StatsError(
                f"ICC: column {column!r} is not in the table (columns {list(table.columns)[:12]})"
            )
    keys = table[[feature, subject, replicate]]
    if keys.isna().any().any():
        bad = keys.columns[keys.isna().any()].tolist()
        raise StatsError(
            f"ICC: column {bad[0]!r} has empty cells; every row needs a feature, subject and replicate"
        )
    repeated = keys.duplicated(keep=False)
    if repeated.any():
        first = table.loc[repeated].iloc[0]
        raise StatsError(
            f"ICC: feature {first[feature]!r}, subject {first[subject]!r}, replicate {first[replicate]!r} has "
            f"{int(((keys == first[[feature, subject, replicate]].to_numpy()).all(axis=1)).sum())} values "
            f"({int(repeated.sum())} repeated rows in all); give one value per feature, subject and replicate "
            "(e.g. tell apart features computed with different settings)"
        )
    values = pd.to_numeric(table[value], errors="coerce").to_numpy(dtype="float64")
    f_codes, features = pd.factorize(table[feature], sort=False)
    s_codes, subjects = pd.factorize(table[subject], sort=True)
    r_codes, replicates = pd.factorize(table[replicate], sort=True)
    cube = np.full((len(features), len(subjects), len(replicates)), np.nan)
    cube[f_codes, s_codes, r_codes] = values
    return cube, pd.Index(features), pd.Index(subjects), pd.Index(replicates)


def _wide_to_cube(
    table: pd.DataFrame, subject: Hashable, replicate: Hashable, features: Sequence[Hashable] | None
) -> tuple[np.ndarray, pd.Index, pd.Index, pd.Index]:
    for column in (subject, replicate):
        if column not in table.columns:
            raise StatsError(
                f"ICC: column {column!r} is not in the table (columns {list(table.columns)[:12]})"
            )
    if features is None:
        features = [
            c
            for c in table.columns
            if c not in (subject, replicate)
            and pd.api.types.is_numeric_dtype(table[c].dtype)
            and not pd.api.types.is_bool_dtype(table[c].dtype)
        ]
    repeated = table.duplicated([subject, replicate], keep=False)
    if repeated.any():
        first = table.loc[repeated].iloc[0]
        raise StatsError(
            f"ICC: subject {first[subject]!r}, replicate {first[replicate]!r} has more than one row; give one row per subject and replicate"
        )
    long = table.melt(
        id_vars=[subject, replicate],
        value_vars=list(features),
        var_name="__feature__",
        value_name="__value__",
    )
    return _long_to_cube(long, subject, replicate, "__feature__", "__value__")


def _icc_block(x: np.ndarray, kind: str, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ICC and CI for ``x`` (features x n x k), complete."""
    _, n, k = x.shape
    grand = x.mean(axis=(1, 2))
    rows = x.mean(axis=2)
    cols = x.mean(axis=1)
    ss_total = ((x - grand[:, None, None]) ** 2).sum(axis=(1, 2))
    ss_rows = k * ((rows - grand[:, None]) ** 2).sum(axis=1)
    ss_cols = n * ((cols - grand[:, None]) ** 2).sum(axis=1)
    ss_error = ss_total - ss_rows - ss_cols
    df1, df_cols, df_error = n - 1, k - 1, (n - 1) * (k - 1)
    msr, msc, mse = ss_rows / df1, ss_cols / df_cols, ss_error / df_error
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        f_subjects = msr / mse
        if kind == "consistency":
            value = (msr - mse) / (msr + (k - 1) * mse)
            f_low = f_subjects / stats.f.ppf(1 - alpha / 2, df1, df_error)
            f_high = f_subjects * stats.f.ppf(1 - alpha / 2, df_error, df1)
            low = (f_low - 1) / (f_low + (k - 1))
            high = (f_high - 1) / (f_high + (k - 1))
        else:
            value = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
            fj = msc / mse
            vn = df_error * (k * value * fj + n * (1 + (k - 1) * value) - k * value) ** 2
            vd = df1 * k**2 * value**2 * fj**2 + (n * (1 + (k - 1) * value) - k * value) ** 2
            v = vn / vd
            f_up = stats.f.ppf(1 - alpha / 2, df1, v)
            f_down = stats.f.ppf(1 - alpha / 2, v, df1)
            low = n * (msr - f_up * mse) / (f_up * (k * msc + (k * n - k - n) * mse) + n * msr)
            high = n * (f_down * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_down * msr)
    return value, low, high


def icc(
    table: pd.DataFrame,
    *,
    subject: Hashable,
    replicate: Hashable,
    feature: Hashable | None = None,
    value: Hashable | None = None,
    features: Sequence[Hashable] | None = None,
    kind: Literal["agreement", "consistency"] = "agreement",
    confidence: float = 0.95,
    min_subjects: int = 3,
) -> pd.DataFrame:
    """Per-feature ICC(A,1) (``kind="agreement"``) or ICC(C,1) (``"consistency"``) with its CI.

    ``table`` is long (one row per subject, replicate and feature: give ``feature`` and ``value``
    columns) or wide (one row per subject and replicate, one column per feature: ``features`` or
    every other numeric column). ``replicate`` names the rater / delineation / scan column.

    Returns columns :data:`ICC_COLUMNS`, one row per feature in order of first appearance;
    ``n`` is the number of subjects with every replicate of that feature. A feature with fewer
    than ``min_subjects`` such subjects or fewer than two replicates has NaN ``icc`` and CI. The
    frame's ``attrs`` hold ``method``, ``kind``, ``confidence`` and ``replicates`` (per feature).

    :raises StatsError: a named column is absent, or a (feature, subject, replicate) repeats.

    >>> ratings = pd.DataFrame({"subject": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"], "rater": ["A", "B"] * 4,
    ...                         "mean": [1.0, 1.1, 2.0, 2.2, 3.0, 2.9, 4.0, 4.1]})
    >>> icc(ratings, subject="subject", replicate="rater").round(3).to_dict("records")
    [{'feature': 'mean', 'icc': 0.995, 'ci_low': 0.946, 'ci_high': 1.0, 'n': 4}]
    """
    if kind not in ICC_METHODS:
        raise StatsError(f"ICC: kind must be one of {sorted(ICC_METHODS)}, not {kind!r}")
    if (feature is None) != (value is None):
        raise StatsError(
            "ICC: a long table needs both feature= and value= columns (or neither, for a wide table)"
        )
    if feature is not None:
        cube, names, _, _ = _long_to_cube(table, subject, replicate, feature, value)
    else:
        cube, names, _, _ = _wide_to_cube(table, subject, replicate, features)
    n_feat = cube.shape[0]
    present = ~np.isnan(cube)
    used_reps = present.any(axis=1)  # features x replicates: replicates that measured the feature
    complete = (present | ~used_reps[:, None, :]).all(axis=2) & present.any(axis=2)  # features x subjects
    out_icc = np.full(n_feat, np.nan)
    out_low = np.full(n_feat, np.nan)
    out_high = np.full(n_feat, np.nan)
    out_n = complete.sum(axis=1)
    k_per = used_reps.sum(axis=1)
    pattern = np.hstack([used_reps, complete])
    _, group = np.unique(np.packbits(pattern, axis=1), axis=0, return_inverse=True)
    group = group.ravel()
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        rep_mask, subj_mask = used_reps[members[0]], complete[members[0]]
        if subj_mask.sum() < min_subjects or rep_mask.sum() < 2:
            continue
        block = cube[np.ix_(members, subj_mask, rep_mask)]
        out_icc[members], out_low[members], out_high[members] = _icc_block(block, kind, confidence)
    result = pd.DataFrame(
        {
            "feature": names.astype(str),
            "icc": out_icc,
            "ci_low": out_low,
            "ci_high": out_high,
            "n": out_n.astype("int64"),
        }
    )
    result.attrs.update(
        {
            "method": ICC_METHODS[kind],
            "kind": kind,
            "confidence": confidence,
            "replicates": dict(zip(names.astype(str), k_per.tolist())),
        }
    )
    dropped = int((out_n < (present.any(axis=2)).sum(axis=1)).sum())
    if dropped:
        logger.info("ICC: %d of %d features lost subjects that lack a replicate", dropped, n_feat)
    return result
