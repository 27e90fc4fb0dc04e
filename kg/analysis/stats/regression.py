"""Covariate-adjusted association of imaging features with molecular targets.

Three models, each over every (feature, target) pair of two subject-indexed tables, with the
covariates coded by :func:`~kg.analysis.stats.design.design_matrix` (numeric as numbers,
categorical as treatment-coded dummies against the first sorted level):

* :func:`linear_association` -- ordinary least squares ``feature ~ 1 + target + covariates``;
  two-sided t-test of the target coefficient, ``df = n - rank([1, covariates]) - 1``. Computed
  exactly (Frisch-Waugh-Lovell): features and targets are residualised on the covariates once,
  then every pair is one entry of a matrix product. Equal to statsmodels ``OLS``.
* :func:`logistic_association` -- logistic regression ``marker ~ 1 + feature + covariates`` for a
  binary marker; two-sided Wald z-test of the feature coefficient. Newton-Raphson for all
  features at once (per-feature Hessians by ``einsum``), convergence judged per feature. A pair
  whose fit does not converge, or whose data are (quasi-)completely separated (checked by the
  linear program of Konis 2007), gets ``converged=False``, a ``note`` and no p-value. Equal to
  statsmodels ``Logit`` where that converges.
* :func:`partial_spearman` -- Spearman partial correlation: feature, target and numeric
  covariates are ranked (average ties) on the pair's subjects, the feature and target ranks are
  residualised on ``[1, covariates]`` and correlated; t-test with ``df = n - 2 - k`` (``k`` design
  columns). Equal to pingouin ``partial_corr(method="spearman")``.

Subjects missing the feature, the target or a covariate are dropped per pair (``n`` says how many
remain): columns sharing a missingness pattern are computed together, so each block of pairs is
exact on its own subjects. Every result table has a ``q`` column: Benjamini-Hochberg FDR over all
its tests with a p-value (:func:`bh_fdr`, = ``scipy.stats.false_discovery_control``); call
:func:`bh_fdr` yourself to correct over a larger analysis.

>>> import pandas as pd
>>> f = pd.DataFrame({"volume": [2.0, 3.1, 4.2, 4.9, 6.3, 6.8, 8.1]}, index=list("abcdefg"))
>>> t = pd.DataFrame({"EGFR": [1.0, 2, 3, 4, 5, 6, 7]}, index=list("abcdefg"))
>>> c = pd.DataFrame({"Sex": ["F", "M", "F", "M", "F", "M", "F"]}, index=list("abcdefg"))
>>> linear_association(f, t, covariates=c)[["feature", "target", "beta", "n"]].round(4)
  feature target    beta  n
0  volume   EGFR  0.9929  7
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .design import Design, binary_marker, design_matrix, subject_variable
from .fdr import bh_fdr
from .errors import StatsError

__all__ = [
    "LINEAR_COLUMNS",
    "LOGISTIC_COLUMNS",
    "SPEARMAN_COLUMNS",
    "bh_fdr",
    "linear_association",
    "logistic_association",
    "partial_spearman",
]

logger = logging.getLogger(__name__)

LINEAR_COLUMNS = ["feature", "target", "beta", "se", "t", "df", "p", "q", "n", "note", "model", "test"]
"""Columns of :func:`linear_association` (``beta``: change in feature per unit of target)."""

LOGISTIC_COLUMNS = [
    "feature",
    "target",
    "beta",
    "se",
    "z",
    "p",
    "q",
    "odds_ratio",
    "n",
    "n_positive",
    "converged",
    "iterations",
    "note",
    "model",
    "test",
]
"""Columns of :func:`logistic_association` (``beta``: log-odds of the marker per unit of feature)."""

SPEARMAN_COLUMNS = ["feature", "target", "r", "t", "df", "p", "q", "n", "note", "model", "test"]
"""Columns of :func:`partial_spearman` (``r``: Spearman partial correlation)."""

_CHUNK_ELEMENTS = 4_000_000  # pairs per matrix product; bounds memory for large analyses


# --------------------------------------------------------------------------- inputs


def _numeric_table(table: pd.DataFrame | pd.Series, what: str) -> pd.DataFrame:
    """``table`` as float64 (text numbers converted, missing tokens and infinities NaN)."""
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    if frame.columns.has_duplicates:
        raise StatsError(
            f"{what}: column names repeat ({frame.columns[frame.columns.duplicated()].tolist()[:5]})"
        )
    if frame.index.has_duplicates:
        raise StatsError(
            f"{what}: subject ids repeat ({frame.index[frame.index.duplicated()].tolist()[:5]}); one row per subject"
        )
    kinds = {
        dtype: pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        for dtype in set(frame.dtypes)
    }
    numeric = np.fromiter((kinds[d] for d in frame.dtypes), dtype=bool, count=frame.shape[1])
    if numeric.all():
        values = frame.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        values = np.empty(frame.shape, dtype="float64")
        if numeric.any():
            values[:, numeric] = frame.iloc[:, np.flatnonzero(numeric)].to_numpy(
                dtype="float64", na_value=np.nan
            )
        for i in np.flatnonzero(~numeric):
            typed = subject_variable(frame.iloc[:, i])
            if typed.dtype != "float64":
                raise StatsError(
                    f"{what}: column {frame.columns[i]!r} is not numeric (levels {list(typed.cat.categories)[:5]}); code it first"
                )
            values[:, i] = typed.to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        values[bad] = np.nan
    return pd.DataFrame(values, index=frame.index, columns=frame.columns, copy=False)  # values is our own


def _align(features: pd.DataFrame, targets: pd.DataFrame) -> pd.Index:
    if features.index.equals(targets.index):
        return features.index
    subjects = features.index.intersection(targets.index, sort=False)
    if len(subjects) == 0:
        raise StatsError(
            f"features and targets share no subject id (features e.g. {features.index[:3].tolist()}, "
            f"targets e.g. {targets.index[:3].tolist()})"
        )
    return subjects


def _pattern_groups(observed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows observed, column indices) for each distinct missingness pattern of the columns."""
    n, m = observed.shape
    if m == 0:
        return []
    if observed.all():
        return [(np.ones(n, dtype=bool), np.arange(m))]
    packed = np.packbits(observed, axis=0).T
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    return [(observed[:, first[g]].copy(), np.flatnonzero(inverse == g)) for g in range(len(first))]


def _basis(x: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of ``x`` (rank-revealing SVD, like a pseudo-inverse)."""
    if x.shape[1] == 0:
        return np.zeros((x.shape[0], 0))
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return np.zeros((x.shape[0], 0))
    tol = s[0] * max(x.shape) * np.finfo(float).eps
    return u[:, s > tol]


def _take(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``values[rows][:, cols]`` without copying when every row and column is taken."""
    full_rows = bool(rows.all())
    full_cols = len(cols) == values.shape[1] and bool((cols == np.arange(values.shape[1])).all())
    if full_rows and full_cols:
        return values
    if full_rows:
        return values[:, cols]
    if full_cols:
        return values[rows]
    return values[np.ix_(rows, cols)]


def _residualise(values: np.ndarray, basis: np.ndarray) -> np.ndarray:
    return values - basis @ (basis.T @ values)


def _model_text(lhs: str, rhs: str, design: Design) -> str:
    terms = design.term_names
    return f"{lhs} ~ {rhs}" + "".join(f" + {t}" for t in terms)


class _Notes:
    """A note per pair, stored as codes into a short list of texts (``""`` = no note)."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.codes = np.zeros(shape, dtype=np.int32)
        self.levels: list[str] = [""]

    def __setitem__(self, index: object, text: str) -> None:
        if text not in self.levels:
            self.levels.append(text)
        self.codes[index] = self.levels.index(text)


def _frame(
    feature_names: pd.Index,
    target_names: pd.Index,
    columns: dict[str, np.ndarray],
    notes: _Notes,
    model: str,
    test: str,
    order: list[str],
) -> pd.DataFrame:
    nt, nf = len(target_names), len(feature_names)
    out: dict[str, object] = {
        "feature": pd.Categorical.from_codes(
            np.tile(np.arange(nf), nt), categories=pd.Index(feature_names.astype(str))
        ),
        "target": pd.Categorical.from_codes(
            np.repeat(np.arange(nt), nf), categories=pd.Index(target_names.astype(str))
        ),
    }
    for name, arr in columns.items():
        out[name] = arr.ravel()
    out["note"] = pd.Categorical.from_codes(
        notes.codes.ravel(), categories=pd.Index(notes.levels, dtype=object)
    )
    out["model"] = pd.Categorical.from_codes(np.zeros(nt * nf, dtype=int), categories=[model])
    out["test"] = pd.Categorical.from_codes(np.zeros(nt * nf, dtype=int), categories=[test])
    frame = pd.DataFrame(out)
    frame["q"] = bh_fdr(frame["p"].to_numpy())
    return frame[order]


@dataclass(frozen=True)
class _Blocks:
    """Subjects and design shared by one analysis."""

    subjects: pd.Index
    design: Design
    covariate_ok: np.ndarray  # subjects with every covariate present
    covariates: np.ndarray  # (n, k) design columns, zeros where a covariate is missing


def _rows_of(frame: pd.DataFrame, subjects: pd.Index) -> np.ndarray:
    """The values of ``frame`` for ``subjects``, in that order."""
    return frame.to_numpy() if frame.index.equals(subjects) else frame.loc[subjects].to_numpy()


def _prepare(
    features: pd.DataFrame,
    targets: pd.DataFrame,
    covariates: pd.DataFrame | None,
    categorical: Iterable[Hashable],
) -> _Blocks:
    subjects = _align(features, targets)
    design = (
        design_matrix(covariates, categorical=categorical, index=subjects)
        if covariates is not None
        else design_matrix(None, index=subjects)
    )
    if design.matrix.index.equals(subjects):
        return _Blocks(
            subjects, design, np.ones(len(subjects), dtype=bool), design.matrix.to_numpy(dtype="float64")
        )
    ok = subjects.isin(design.matrix.index)
    cov = np.zeros((len(subjects), design.matrix.shape[1]))
    if design.matrix.shape[1]:
        cov[ok] = design.matrix.loc[subjects[ok]].to_numpy(dtype="float64")
    return _Blocks(subjects, design, ok, cov)


def _block_pairs(
    f_obs: np.ndarray, t_obs: np.ndarray, covariate_ok: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(subject mask, feature columns, target columns) for every pair of missingness patterns."""
    for f_rows, f_cols in _pattern_groups(f_obs):
        for t_rows, t_cols in _pattern_groups(t_obs):
            yield f_rows & t_rows & covariate_ok, f_cols, t_cols


def _target_chunks(t_cols: np.ndarray, n_features: int, parts: int = 1) -> Iterator[np.ndarray]:
    """Target columns in chunks of at most ``_CHUNK_ELEMENTS`` pairs, and at least ``parts`` chunks."""
    step = max(1, min(_CHUNK_ELEMENTS // max(1, n_features), -(-len(t_cols) // max(1, parts))))
    for start in range(0, len(t_cols), step):
        yield t_cols[start : start + step]


# --------------------------------------------------------------------------- linear


def linear_association(
    features: pd.DataFrame,
    targets: pd.DataFrame | pd.Series,
    *,
    covariates: pd.DataFrame | None = None,
    categorical: Iterable[Hashable] = (),
) -> pd.DataFrame:
    """OLS ``feature ~ 1 + target + covariates`` for every pair; t-test of the target coefficient.

    ``features`` and ``targets`` are subjects x variables (numeric; text columns of numbers are
    converted, missing tokens are NaN); ``covariates`` subjects x variables of any type, coded by
    :func:`~kg.analysis.stats.design.design_matrix` (``categorical`` forces columns to categories).
    Subjects are those in both ``features`` and ``targets``; per pair, those with feature, target
    and every covariate present.

    Returns one row per (target, feature), targets outer, columns :data:`LINEAR_COLUMNS`:
    ``beta``/``se``/``t`` of the target coefficient, ``df`` residual degrees of freedom, two-sided
    ``p``, ``q`` (BH over the table), ``n`` subjects. A pair with no residual degree of freedom, or
    whose target (or feature) is constant after adjustment, has NaN statistics and a ``note``.

    :raises StatsError: repeated subject ids or column names, a non-numeric column, no shared subject.

    >>> from scipy.stats import linregress
    >>> ages = pd.Series([1, 2, 3, 4, 5, 6], index=list("abcdef"), name="age")
    >>> features = pd.DataFrame({"mean": [1.0, 2.5, 2.9, 4.2, 5.1, 5.8]}, index=ages.index)
    >>> row = linear_association(features, ages).iloc[0]
    >>> row["feature"], row["target"], float(round(row["beta"], 4)), int(row["n"])
    ('mean', 'age', 0.9457, 6)
    >>> bool(np.isclose(row["p"], linregress(ages, features["mean"]).pvalue))
    True
    >>> linear_association(features, ages.set_axis(list("uvwxyz")))
    Traceback (most recent call last):
    ...
    kg.analysis.stats.errors.StatsError: features and targets share no subject id ...
    """
    f = _numeric_table(features, "features")
    t = _numeric_table(targets, "targets")
    blocks = _prepare(f, t, covariates, categorical)
    fv = _rows_of(f, blocks.subjects)
    tv = _rows_of(t, blocks.subjects)
    nf, nt = fv.shape[1], tv.shape[1]
    shape = (nt, nf)
    # every pair is in exactly one block below, which writes all of its cells (the pages are
    # first touched there, by the worker threads)
    beta, se, tstat, df, p = (np.empty(shape) for _ in range(5))
    n = np.empty(shape, dtype="int64")
    notes = _Notes(shape)
    intercept = np.ones((len(blocks.subjects), 1))
    x_all = np.hstack([intercept, blocks.covariates])
    workers = _workers(len(fv) * nf * nt)
    with _one_blas_thread() if workers > 1 else _blas_threads(len(fv), nf, nt):
        for rows, f_cols, t_cols in _block_pairs(~np.isnan(fv), ~np.isnan(tv), blocks.covariate_ok):
            n_rows = int(rows.sum())
            n[np.ix_(t_cols, f_cols)] = n_rows
            basis = _basis(x_all[rows])
            dof = n_rows - basis.shape[1] - 1
            if dof < 1:
                for array in (beta, se, tstat, df, p):
                    array[np.ix_(t_cols, f_cols)] = np.nan
                notes[np.ix_(t_cols, f_cols)] = (
                    f"too few subjects (n={n_rows}) for {basis.shape[1] + 1} parameters"
                )
                continue
            fy = _take(fv, rows, f_cols)
            ry = _residualise(fy, basis)
            syy = np.einsum("ij,ij->j", ry, ry)
            y_scale = fy.var(axis=0) * n_rows
            bad_f = syy <= 1e-24 * np.maximum(y_scale, np.finfo(float).tiny)

            def fit(chunk: np.ndarray) -> None:
                tx = _take(tv, rows, chunk)
                rx = _residualise(tx, basis)
                sxx = np.einsum("ij,ij->j", rx, rx)
                x_scale = tx.var(axis=0) * n_rows
                sxy = rx.T @ ry
                with np.errstate(divide="ignore", invalid="ignore"):
                    b = sxy / sxx[:, None]
                    rss = np.maximum(syy[None, :] - b * sxy, 0.0)
                    s = np.sqrt(rss / dof / sxx[:, None])
                    tt = b / s
                bad_t = sxx <= 1e-12 * np.maximum(x_scale, np.finfo(float).tiny)
                b[bad_t, :] = s[bad_t, :] = tt[bad_t, :] = np.nan
                tt[:, bad_f] = np.nan
                ix = np.ix_(chunk, f_cols)
                beta[ix], se[ix], tstat[ix] = b, s, tt
                df[ix] = dof
                p[ix] = 2.0 * special.stdtr(dof, -np.abs(tt))
                if bad_t.any():
                    notes[np.ix_(chunk[bad_t], f_cols)] = "target constant after adjusting for the covariates"

            chunks = list(_target_chunks(t_cols, len(f_cols), parts=workers))
            if workers > 1 and len(chunks) > 1:
                with ThreadPoolExecutor(workers) as pool:  # numpy and scipy.special release the GIL
                    list(pool.map(fit, chunks))
            else:
                for chunk in chunks:
                    fit(chunk)
            if bad_f.any():
                notes[np.ix_(t_cols, f_cols[bad_f])] = "feature constant after adjusting for the covariates"
    model = "OLS: " + _model_text("feature", "target", blocks.design)
    test = "two-sided t-test of the target coefficient (df = n - covariate rank - 2); q: Benjamini-Hochberg over the table"
    logger.info("linear association: %d features x %d targets, %d subjects", nf, nt, len(blocks.subjects))
    return _frame(
        f.columns,
        t.columns,
        {"beta": beta, "se": se, "t": tstat, "df": df, "p": p, "n": n},
        notes,
        model,
        test,
        LINEAR_COLUMNS,
    )


# --------------------------------------------------------------------------- partial Spearman


def _rank(values: np.ndarray) -> np.ndarray:
    return stats.rankdata(values, axis=0, method="average") if values.size else values


def partial_spearman(
    features: pd.DataFrame,
    targets: pd.DataFrame | pd.Series,
    *,
    covariates: pd.DataFrame | None = None,
    categorical: Iterable[Hashable] = (),
) -> pd.DataFrame:
    """Spearman partial correlation of every (feature, target) pair given the covariates.

    On the pair's subjects: feature, target and every design column are ranked (average ties;
    a dummy's ranks span the same space as the dummy), feature and target ranks are residualised
    on ``[1, ranked covariates]``, and ``r`` is the Pearson correlation of the residuals; two-sided
    t-test, ``t = r sqrt(df / (1 - r^2))``, ``df = n - 2 - k`` with ``k`` the number of design
    columns (a dummy constant on the pair's subjects is left out and not counted). Without
    covariates this is Spearman's rho with scipy's t-test p-value.

    Returns one row per (target, feature), targets outer, columns :data:`SPEARMAN_COLUMNS`.

    :raises StatsError: repeated subject ids or column names, a non-numeric column, no shared subject.

    >>> from scipy.stats import spearmanr
    >>> grades = pd.Series([2, 1, 4, 3, 6, 5], index=list("abcdef"), name="grade")
    >>> features = pd.DataFrame({"mean": [1.0, 2.5, 2.9, 4.2, 5.1, 5.8]}, index=grades.index)
    >>> row = partial_spearman(features, grades).iloc[0]
    >>> reference = spearmanr(features["mean"], grades)
    >>> bool(np.isclose(row["r"], reference.statistic) and np.isclose(row["p"], reference.pvalue))
    True
    """
    f = _numeric_table(features, "features")
    t = _numeric_table(targets, "targets")
    blocks = _prepare(f, t, covariates, categorical)
    fv = _rows_of(f, blocks.subjects)
    tv = _rows_of(t, blocks.subjects)
    nf, nt = fv.shape[1], tv.shape[1]
    k = blocks.covariates.shape[1]
    shape = (nt, nf)
    r, tstat, df, p = (np.full(shape, np.nan) for _ in range(4))
    n = np.zeros(shape, dtype="int64")
    notes = _Notes(shape)
    with _blas_threads(len(fv), nf, nt):
        for rows, f_cols, t_cols in _block_pairs(~np.isnan(fv), ~np.isnan(tv), blocks.covariate_ok):
            n_rows = int(rows.sum())
            n[np.ix_(t_cols, f_cols)] = n_rows
            basis = _basis(np.hstack([np.ones((n_rows, 1)), _rank(blocks.covariates[rows])]))
            dof = n_rows - 1 - basis.shape[1]  # n - 2 - k, k = covariate columns not constant here
            if dof < 1:
                notes[np.ix_(t_cols, f_cols)] = f"too few subjects (n={n_rows}) for {k} covariate columns"
                continue
            ry = _residualise(_rank(_take(fv, rows, f_cols)), basis)
            syy = np.einsum("ij,ij->j", ry, ry)
            for chunk in _target_chunks(t_cols, len(f_cols)):
                rx = _residualise(_rank(_take(tv, rows, chunk)), basis)
                sxx = np.einsum("ij,ij->j", rx, rx)
                with np.errstate(divide="ignore", invalid="ignore"):
                    rr = np.clip((rx.T @ ry) / np.sqrt(sxx[:, None] * syy[None, :]), -1.0, 1.0)
                    tt = rr * np.sqrt(dof / (1.0 - rr**2))
                const_t = sxx <= 1e-20 * n_rows**3
                const_f = syy <= 1e-20 * n_rows**3
                rr[const_t, :] = np.nan
                rr[:, const_f] = np.nan
                tt[np.isnan(rr)] = np.nan
                ix = np.ix_(chunk, f_cols)
                r[ix], tstat[ix] = rr, tt
                df[ix] = dof
                pp = 2.0 * special.stdtr(dof, -np.abs(tt))
                pp[np.isclose(rr**2, 1.0)] = 0.0
                p[ix] = pp
                if const_t.any():
                    notes[np.ix_(chunk[const_t], f_cols)] = (
                        "target ranks constant after adjusting for the covariates"
                    )
                if const_f.any():
                    notes[np.ix_(chunk, f_cols[const_f])] = (
                        "feature ranks constant after adjusting for the covariates"
                    )
    model = "Spearman partial correlation: rank(feature), rank(target) | " + (
        " + ".join(blocks.design.term_names) if blocks.design.terms else "(no covariates)"
    )
    test = "two-sided t-test of r (df = n - 2 - k covariate columns); q: Benjamini-Hochberg over the table"
    return _frame(
        f.columns,
        t.columns,
        {"r": r, "t": tstat, "df": df, "p": p, "n": n},
        notes,
        model,
        test,
        SPEARMAN_COLUMNS,
    )


# --------------------------------------------------------------------------- logistic


@dataclass
class _LogitFit:
    beta: np.ndarray  # (F, P) on the standardised scale; column 0 = feature
    cov: np.ndarray  # (F, P, P) inverse Hessian at beta
    converged: np.ndarray  # (F,)
    iterations: np.ndarray  # (F,)
    extreme: np.ndarray  # (F,) some subject's fitted probability within 1e-8 of 0 or 1
    singular: np.ndarray  # (F,) Hessian not invertible


_BLOCK_VALUES = 32_768  # features x subjects per work-array chunk (stays in cache)


def _newton(
    x_t: np.ndarray,
    c: np.ndarray,
    y: np.ndarray,
    mask_t: np.ndarray | None,
    max_iter: int,
    tol: float,
    start: np.ndarray | None = None,
    products: tuple[tuple[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> _LogitFit:
    """Batched Newton-Raphson: ``x_t`` (F, n) C-contiguous standardised features, one row per
    feature (0 where masked); ``mask_t`` (F, n) its observed subjects (None: all); ``c`` (n, Pc)
    covariates with const; ``start`` the covariate coefficients to start from (feature at 0);
    ``products`` the upper-triangle indices and pairwise products of the covariates (computed if absent).

    Parameters per feature: ``[feature, const, covariates...]``. A step longer than 5 (standardised
    units) is shortened to 5, which changes the path, not the fixed point. The covariance is the
    inverse Hessian of the last iteration (its step was below ``tol``). Every iteration solves all
    active features at once; their information matrices are built ``_BLOCK_VALUES / n`` features at a
    time in work arrays allocated once (cache-sized; fresh large temporaries cost page faults).
    """
    nfeat, n_subj = x_t.shape
    pc = c.shape[1]
    p = pc + 1
    upper, cc = products if products is not None else _covariate_products(c)
    weights = None if mask_t is None or mask_t.all() else mask_t.astype("float64")
    beta = np.zeros((nfeat, p))
    if start is not None:
        beta[:, 1:] = start
    converged = np.zeros(nfeat, dtype=bool)
    singular = np.zeros(nfeat, dtype=bool)
    iterations = np.zeros(nfeat, dtype="int64")
    cov_upper_0, cov_upper_1 = 1 + upper[0], 1 + upper[1]
    c_t = np.ascontiguousarray(c.T)
    chunk = max(8, _BLOCK_VALUES // max(1, n_subj))
    rows = min(chunk, nfeat)
    buf_t, buf_w, buf_r = (np.empty((rows, n_subj)) for _ in range(3))
    # the score X'(y - mu) with mu = (1 + tanh(eta / 2)) / 2 is X'(y - 1/2) - X' tanh(eta / 2) / 2;
    # the first term is fixed (x_t is 0 where masked)
    y_half = y - 0.5
    score_x = x_t @ y_half
    score_c = (y_half @ c)[None, :] if weights is None else weights @ (y_half[:, None] * c)

    def hessian_gradient(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Information matrix, score and smallest mu (1 - mu) over each feature's own subjects at
        ``beta[cols]``, computed ``chunk`` features at a time in the same work arrays. With
        t = tanh(eta / 2): mu = (1 + t) / 2 and mu (1 - mu) = (1 - t^2) / 4 (one transcendental
        pass, no division); the factors 1/2 and 1/4 are applied to the small results."""
        count = len(cols)
        h = np.empty((count, p, p))
        g = np.empty((count, p))
        w_min = np.empty(count)
        every = count == nfeat
        for s0 in range(0, count, chunk):
            s1 = min(s0 + chunk, count)
            k = s1 - s0
            part = cols[s0:s1]
            xf = x_t[s0:s1] if every else x_t[part]
            half_b = 0.5 * beta[part]
            t = np.matmul(half_b[:, 1:], c_t, out=buf_t[:k])  # eta / 2, then tanh(eta / 2) in place
            tmp = np.multiply(xf, half_b[:, :1], out=buf_r[:k])
            t += tmp
            np.tanh(t, out=t)
            q = np.multiply(t, t, out=buf_w[:k])  # 4 mu (1 - mu)
            np.subtract(1.0, q, out=q)
            g[s0:s1, 0] = score_x[part] - 0.5 * np.einsum("fn,fn->f", t, xf)
            if weights is not None:
                m = weights[s0:s1] if every else weights[part]
                w_min[s0:s1] = 0.25 * np.where(m > 0, q, 4.0).min(axis=1)
                g[s0:s1, 1:] = score_c[part] - 0.5 * (np.multiply(t, m, out=tmp) @ c)
                q *= m
            else:
                w_min[s0:s1] = 0.25 * q.min(axis=1)
                g[s0:s1, 1:] = score_c - 0.5 * (t @ c)
            qx = np.multiply(q, xf, out=t)
            hp = h[s0:s1]
            hp[:, 0, 0] = np.einsum("fn,fn->f", qx, xf)
            hfc = qx @ c
            hp[:, 0, 1:] = hfc
            hp[:, 1:, 0] = hfc
            block = q @ cc
            hp[:, cov_upper_0, cov_upper_1] = block
            hp[:, cov_upper_1, cov_upper_0] = block
            hp *= 0.25
        return h, g, w_min

    def first_hessian_gradient() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`hessian_gradient` at the start, where every feature has the same coefficients
        (feature 0, covariates ``start``): one mu for all, so the feature terms are products of
        ``x_t`` with fixed vectors (complete data only)."""
        t = np.tanh(c @ (0.5 * beta[0, 1:]))
        q = 1.0 - t * t
        products = x_t @ np.column_stack([q[:, None] * c, t])
        h = np.empty((nfeat, p, p))
        h[:, 0, 0] = np.einsum("fn,fn,n->f", x_t, x_t, q)
        h[:, 0, 1:] = products[:, :pc]
        h[:, 1:, 0] = products[:, :pc]
        block = q @ cc
        h[:, cov_upper_0, cov_upper_1] = block
        h[:, cov_upper_1, cov_upper_0] = block
        h *= 0.25
        g = np.empty((nfeat, p))
        g[:, 0] = score_x - 0.5 * products[:, pc]
        g[:, 1:] = score_c - 0.5 * (t @ c)
        return h, g, np.full(nfeat, 0.25 * q.min())

    def solve(h: np.ndarray, g: np.ndarray, cols: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.solve(h, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            out = np.empty_like(g)
            for i in range(len(cols)):
                try:
                    out[i] = np.linalg.solve(h[i], g[i])
                except np.linalg.LinAlgError:
                    out[i] = np.linalg.lstsq(h[i], g[i], rcond=None)[0]
                    singular[cols[i]] = True
            return out

    def invert(h: np.ndarray, cols: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.inv(h)
        except np.linalg.LinAlgError:
            out = np.full_like(h, np.nan)
            for i in range(len(cols)):
                try:
                    out[i] = np.linalg.inv(h[i])
                except np.linalg.LinAlgError:
                    singular[cols[i]] = True
            return out

    cov = np.full((nfeat, p, p), np.nan)
    extreme = np.zeros(nfeat, dtype=bool)
    active = np.arange(nfeat)
    for it in range(1, max_iter + 1):
        if active.size == 0:
            break
        h, g, w_min = first_hessian_gradient() if it == 1 and weights is None else hessian_gradient(active)
        step = solve(h, g, active)
        step[~np.isfinite(step)] = 0.0
        longest = np.abs(step).max(axis=1)
        too_long = longest > 5.0
        if too_long.any():
            step[too_long] *= (5.0 / longest[too_long])[:, None]
            longest[too_long] = 5.0
        beta[active] += step
        iterations[active] = it
        done = longest < tol
        if done.any():
            finished = active[done]
            converged[finished] = True
            cov[finished] = invert(h[done], finished)
            extreme[finished] = w_min[done] < 1e-8
        active = active[~done]
    if active.size:
        h, _, w_min = hessian_gradient(active)
        cov[active] = invert(h, active)
        extreme[active] = w_min < 1e-8
    return _LogitFit(beta, cov, converged, iterations, extreme, singular)


def _covariate_products(c: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Upper-triangle index pairs of the covariates and their products per subject (Hessian's covariate block)."""
    upper = np.triu_indices(c.shape[1])
    return upper, c[:, upper[0]] * c[:, upper[1]]


def _covariate_start(c: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray | None:
    """Coefficients of ``y ~ covariates`` (no feature), to start every feature's fit from; None if it does not converge."""
    b = np.zeros(c.shape[1])
    for _ in range(50):
        mu = special.expit(c @ b)
        h = c.T @ ((mu * (1.0 - mu))[:, None] * c)
        try:
            step = np.linalg.solve(h, c.T @ (y - mu))
        except np.linalg.LinAlgError:
            return None
        b += step
        if np.abs(step).max() < tol:
            return b
    return None


def _newton_chunked(
    x_t: np.ndarray,
    c: np.ndarray,
    y: np.ndarray,
    mask_t: np.ndarray | None,
    max_iter: int,
    tol: float,
    start: np.ndarray | None = None,
) -> _LogitFit:
    """:func:`_newton` with single-threaded BLAS (the products are small; threads only contend)."""
    with _one_blas_thread():
        return _newton(x_t, c, y, mask_t, max_iter, tol, start)


def _workers(work: int) -> int:
    """Threads for the pair loop: the CPUs this process may use, once the work (subjects x pairs)
    is large enough (> 10^8) to pay for them; else one."""
    if work <= 100_000_000:
        return 1
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # not Linux
        return max(1, min(os.cpu_count() or 1, 8))


def _blas_threads(
    n_subjects: int, n_features: int, n_targets: int
) -> contextlib.AbstractContextManager[object]:
    """One BLAS thread unless the feature x target product is large enough (> 2 GFlop) to gain from
    more: small products are memory-bound, and threaded BLAS on them stalls on a busy machine."""
    if 2.0 * n_subjects * n_features * n_targets > 2e9:
        return contextlib.nullcontext()
    return _one_blas_thread()


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, leave BLAS as it is
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _separated(x: np.ndarray, y: np.ndarray) -> bool:
    """Konis (2007): is there a direction b != 0 with s_i x_i b >= 0 for every subject (s = +-1)?"""
    s = 2.0 * y - 1.0
    a = x * s[:, None]
    res = optimize.linprog(
        c=-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(len(y)), bounds=[(-1.0, 1.0)] * x.shape[1], method="highs"
    )
    return bool(res.status == 0 and -res.fun > 1e-6 * max(1.0, len(y) ** 0.5))


def logistic_association(
    features: pd.DataFrame,
    markers: pd.DataFrame | pd.Series,
    *,
    covariates: pd.DataFrame | None = None,
    categorical: Iterable[Hashable] = (),
    max_iter: int = 100,
    tol: float = 1e-8,
) -> pd.DataFrame:
    """Logistic ``marker ~ 1 + feature + covariates`` for every (feature, marker); Wald test of the feature.

    ``markers`` are binary: 0/1 numbers or two text levels, one of them recognisable as positive
    (see :func:`~kg.analysis.stats.design.binary_marker`; code others with it first). Features are
    standardised for the fit and the coefficient mapped back (exact: the Wald z is invariant).
    Convergence: every coefficient moves less than ``tol`` (standardised scale) in a Newton step.

    A pair is ``converged=False`` with NaN ``p`` and a ``note`` when the fit does not converge in
    ``max_iter`` iterations, its Hessian is singular, or the marker is (quasi-)completely
    separated by the feature and covariates (a linear program, run for fits that did not
    converge or have extreme coefficients or fitted probabilities) -- a maximum-likelihood
    estimate does not exist then, and no p-value is given.

    Returns one row per (marker, feature), markers outer, columns :data:`LOGISTIC_COLUMNS`
    (``target`` = marker; ``beta`` log-odds per unit of the feature, ``odds_ratio = exp(beta)``).

    :raises StatsError: repeated subject ids or column names, a non-numeric feature or non-binary marker, no shared subject.

    >>> import statsmodels.api as sm
    >>> egfr = pd.Series([0, 1, 0, 1, 1, 0, 1, 1], index=list("abcdefgh"), name="EGFR")
    >>> features = pd.DataFrame({"mean": [1.0, 2.0, 1.5, 3.0, 2.2, 2.5, 3.3, 1.8]}, index=egfr.index)
    >>> row = logistic_association(features, egfr).iloc[0]
    >>> float(round(row["beta"], 4)), bool(row["converged"]), int(row["n_positive"])
    (2.1329, True, 5)
    >>> fit = sm.Logit(egfr.to_numpy(), sm.add_constant(features["mean"].to_numpy())).fit(disp=0)
    >>> bool(np.isclose(row["p"], fit.pvalues[1]))
    True
    """
    f = _numeric_table(features, "features")
    raw = markers.to_frame() if isinstance(markers, pd.Series) else markers
    mk = pd.DataFrame({c: binary_marker(raw[c]) for c in raw.columns}, index=raw.index)
    blocks = _prepare(f, mk, covariates, categorical)
    fv = _rows_of(f, blocks.subjects)
    yv = mk.loc[blocks.subjects].to_numpy(dtype="float64")
    nf, nt = fv.shape[1], yv.shape[1]
    shape = (nt, nf)
    beta, se, z, p = (np.full(shape, np.nan) for _ in range(4))
    n = np.zeros(shape, dtype="int64")
    n_pos = np.zeros(shape, dtype="int64")
    converged = np.zeros(shape, dtype=bool)
    iterations = np.zeros(shape, dtype="int64")
    notes = _Notes(shape)
    cov_all = blocks.covariates
    for j in range(nt):
        base = blocks.covariate_ok & ~np.isnan(yv[:, j])
        y = yv[base, j]
        every = bool(base.all())
        x_f = fv if every else fv[base]
        c = cov_all if every else cov_all[base]
        # NaN propagates through a sum: a finite total means no missing value (one read, no mask)
        complete = bool(np.isfinite(x_f.sum())) or not np.isnan(x_f).any()
        obs = None if complete else ~np.isnan(x_f)
        if complete:
            n[j] = len(y)
            n_pos[j] = int(y.sum())
        else:
            n[j] = obs.sum(axis=0)
            n_pos[j] = (obs & (y[:, None] == 1)).sum(axis=0)
        # standardise covariates (affine: leaves the feature coefficient unchanged)
        if c.shape[1]:
            sd = c.std(axis=0)
            keep = sd > 0
            c = (c[:, keep] - c[:, keep].mean(axis=0)) / sd[keep]
            if c.shape[1] and np.linalg.matrix_rank(c) < c.shape[1]:
                c = c[:, _independent_columns(c)]
        c = np.hstack([np.ones((len(y), 1)), c])
        # standardise each feature on its own subjects; one row per feature (F, n): the Newton
        # chunks are contiguous rows
        centred = None
        if complete:
            centred = np.empty((nf, len(y)))
            centred[...] = x_f.T
            mean = centred.mean(axis=1)
            centred -= mean[:, None]
            sd = np.sqrt(np.einsum("fn,fn->f", centred, centred) / len(y))
            # a constant feature's rounded mean leaves a tiny non-zero sd (about |mean| n eps at most):
            # test the values of those that could be constant
            maybe = np.flatnonzero(sd <= 1e-8 * np.abs(mean))
            if maybe.size:
                sd[maybe[centred[maybe].max(axis=1) == centred[maybe].min(axis=1)]] = 0.0
        else:
            with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(x_f, axis=0)
                sd = np.nanstd(x_f, axis=0)
                sd[~(np.nanmax(x_f, axis=0) > np.nanmin(x_f, axis=0))] = 0.0
        usable = (sd > 0) & (n[j] - n_pos[j] > 0) & (n_pos[j] > 0) & (n[j] > c.shape[1] + 1)
        for col in np.flatnonzero(~usable):
            notes[j, col] = (
                "feature constant"
                if not sd[col] > 0
                else "one class only"
                if n_pos[j, col] in (0, n[j, col])
                else "too few subjects"
            )
        cols = np.flatnonzero(usable)
        if cols.size == 0:
            continue
        whole = cols.size == nf
        if centred is not None:
            xs = centred if whole else centred[cols]
            obs_t = None
        else:
            xs = np.empty((cols.size, len(y)))
            np.subtract((x_f if whole else x_f[:, cols]).T, (mean if whole else mean[cols])[:, None], out=xs)
            obs_t = np.ascontiguousarray(obs[:, cols].T)
            xs[~obs_t] = 0.0
        xs /= (sd if whole else sd[cols])[:, None]
        fit = _newton_chunked(xs, c, y, obs_t, max_iter, tol, _covariate_start(c, y, tol))
        b = fit.beta[:, 0] / sd[cols]
        s = np.sqrt(fit.cov[:, 0, 0]) / sd[cols]
        zz = fit.beta[:, 0] / np.sqrt(fit.cov[:, 0, 0])
        ok = fit.converged & ~fit.singular & np.isfinite(zz)
        suspect = ~ok | fit.extreme | (np.abs(fit.beta).max(axis=1) > 15.0)
        for i in np.flatnonzero(suspect):
            col = cols[i]
            rows = slice(None) if obs is None else obs[:, col]
            xi = np.hstack([xs[i, rows][:, None], c[rows]])
            if _separated(xi, y[rows]):
                fitted = special.expit(xi @ fit.beta[i])
                perfect = bool(np.all(np.abs(fitted - y[rows]) < 1e-4))
                notes[j, col] = (
                    "complete" if perfect else "quasi-complete"
                ) + " separation: no maximum-likelihood estimate"
                ok[i] = False
            elif not fit.converged[i]:
                notes[j, col] = f"no convergence in {max_iter} Newton iterations"
            elif fit.singular[i] or not np.isfinite(zz[i]):
                notes[j, col] = "singular information matrix"
        beta[j, cols] = b
        se[j, cols] = np.where(ok, s, np.nan)
        z[j, cols] = np.where(ok, zz, np.nan)
        p[j, cols] = np.where(ok, 2.0 * special.ndtr(-np.abs(zz)), np.nan)
        converged[j, cols] = ok
        iterations[j, cols] = fit.iterations
        beta[j, cols] = np.where(ok, b, np.nan)
    model = "logistic: " + _model_text("marker", "feature", blocks.design)
    test = "two-sided Wald z-test of the feature coefficient; q: Benjamini-Hochberg over the table"
    with np.errstate(over="ignore"):
        odds = np.exp(beta)
    return _frame(
        f.columns,
        mk.columns,
        {
            "beta": beta,
            "se": se,
            "z": z,
            "p": p,
            "odds_ratio": odds,
            "n": n,
            "n_positive": n_pos,
            "converged": converged,
            "iterations": iterations,
        },
        notes,
        model,
        test,
        LOGISTIC_COLUMNS,
    )


def _independent_columns(c: np.ndarray) -> np.ndarray:
    """Mask of a maximal set of linearly independent columns (greedy, in order)."""
    keep: list[int] = []
    for i in range(c.shape[1]):
        if np.linalg.matrix_rank(c[:, keep + [i]]) == len(keep) + 1:
            keep.append(i)
    mask = np.zeros(c.shape[1], dtype=bool)
    mask[keep] = True
    return mask
