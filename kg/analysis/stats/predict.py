"""Validated prediction of a binary marker from imaging features.

Model: a scikit-learn pipeline -- median imputation, optional ComBat harmonisation
(:class:`ComBatTransformer`), standardisation, univariate filter selection of the ``k`` best
features (:class:`UnivariateFilter`: ANOVA F / t-test or Mann-Whitney), then an L2 or elastic-net
``LogisticRegression`` or a ``RandomForestClassifier``. Covariates, when given, enter the model
as extra predictors and are never filtered out. Every step learned from data is fitted inside
each training fold only.

Validation: repeated stratified k-fold (``RepeatedStratifiedKFold(folds, repeats, seed)``); in
each repeat the out-of-fold probabilities of all subjects are pooled into one ROC AUC. ``auc`` is
the mean over repeats. Its 95% CI (``ci_method="delong"``, default) is ``auc +- 1.96 sqrt(V)``
where ``V`` is the mean over repeats of DeLong's variance of the pooled out-of-fold AUC (DeLong
et al. 1988; fast midrank algorithm of Sun & Xu 2014), clipped to [0, 1]; ``ci_method="repeats"``
gives the 2.5-97.5 percentiles of the per-repeat AUCs instead (partition variability only, narrow).
Test: label permutation -- the whole procedure is rerun on permuted labels, ``p = (1 + #{null AUC
>= observed}) / (1 + permutations)``, one-sided. One marker, one test: no multiple-testing
correction here (correct across markers yourself). An external cohort, when given, is predicted by
the model refitted on all training subjects; its AUC has a DeLong 95% CI. The same ``seed`` gives
the same numbers.
"""

from __future__ import annotations

import inspect
import logging
import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .combat import ComBatModel, fit_combat
from .design import binary_marker, design_matrix
from .errors import StatsError

__all__ = [
    "ComBatTransformer",
    "ExternalValidation",
    "MedianImputer",
    "PredictionResult",
    "UnivariateFilter",
    "build_pipeline",
    "delong_auc",
    "predict_marker",
]

logger = logging.getLogger(__name__)

Model = Literal["logistic", "random-forest"]


# --------------------------------------------------------------------------- DeLong


def delong_auc(
    y_true: np.ndarray | Sequence[float], scores: np.ndarray | Sequence[float]
) -> tuple[float, float]:
    """ROC AUC and its DeLong variance (midrank algorithm of Sun & Xu 2014; ties count one half).

    >>> auc, var = delong_auc([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(auc, 4), round(var, 5)
    (0.8889, 0.02469)
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[y == 1], s[y == 0]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        raise StatsError("AUC needs subjects of both classes")
    all_ranks = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (all_ranks[:m] - stats.rankdata(pos)) / n  # per positive: share of negatives below it
    v01 = 1.0 - (all_ranks[m:] - stats.rankdata(neg)) / m  # per negative: share of positives above it
    auc = float(v10.mean())
    s10 = v10.var(ddof=1) if m > 1 else 0.0
    s01 = v01.var(ddof=1) if n > 1 else 0.0
    return auc, float(s10 / m + s01 / n)


def _delong_ci(auc: float, var: float, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


# --------------------------------------------------------------------------- pipeline steps


def _mann_whitney_scores(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|AUC - 0.5| per column (Mann-Whitney U / n1 n0) and the two-sided asymptotic p-value."""
    pos, neg = x[y == 1], x[y == 0]
    res = stats.mannwhitneyu(pos, neg, axis=0, alternative="two-sided", method="asymptotic")
    effect = np.abs(res.statistic / (len(pos) * len(neg)) - 0.5)
    return np.nan_to_num(effect, nan=0.0), np.nan_to_num(res.pvalue, nan=1.0)


class UnivariateFilter(TransformerMixin, BaseEstimator):
    """Keep the ``k`` columns that best separate the two classes, plus the ``keep`` columns (positions) always.

    ``method``: ``"anova"`` (F of a one-way ANOVA = squared two-sample t, ``f_classif``) or
    ``"mann-whitney"`` (|AUC - 0.5| from the U statistic). Array in, array out; ``selected_`` holds
    the kept column positions in input order.

    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
    >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
    >>> UnivariateFilter(k=1).fit(X.to_numpy(), y.to_numpy()).selected_   # f1 carries the marker
    array([0])
    """

    def __init__(self, k: int = 10, method: str = "anova", keep: Sequence[int] = ()) -> None:
        self.k = k
        self.method = method
        self.keep = keep

    def fit(self, X: np.ndarray, y: np.ndarray) -> UnivariateFilter:
        """Score every candidate column on ``X`` against the classes ``y`` and choose the kept positions.

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> UnivariateFilter(k=2, method="mann-whitney").fit(X.to_numpy(), y.to_numpy()).selected_.tolist()[0]
        0
        """
        values = np.asarray(X, dtype=float)
        keep = sorted({int(i) for i in self.keep})
        candidates = np.setdiff1d(np.arange(values.shape[1]), keep)
        if self.method == "anova":
            scores = _anova_scores(values[:, candidates], np.asarray(y))
        elif self.method == "mann-whitney":
            scores, _ = _mann_whitney_scores(values[:, candidates], np.asarray(y))
        else:
            raise StatsError(f"selection method must be 'anova' or 'mann-whitney', not {self.method!r}")
        order = np.argsort(-scores, kind="stable")[: min(self.k, len(candidates))]
        self.scores_ = scores
        self.selected_ = np.sort(np.concatenate([candidates[order], np.asarray(keep, dtype=int)])).astype(int)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The kept columns of ``X``, in input order.

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> UnivariateFilter(k=1).fit(X.to_numpy(), y.to_numpy()).transform(X.to_numpy()).shape
        (40, 1)
        """
        return np.asarray(X, dtype=float)[:, self.selected_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of the kept columns (``x0``, ``x1`` ... without ``input_features``).

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> UnivariateFilter(k=1).fit(X.to_numpy(), y.to_numpy()).get_feature_names_out(["f1", "f2", "f3"]).tolist()
        ['f1']
        """
        names = np.asarray(
            input_features if input_features is not None else [f"x{i}" for i in range(self.n_features_in_)],
            dtype=object,
        )
        return names[self.selected_]


def _anova_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One-way ANOVA F per column for two classes (``f_classif``), 0 where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant columns: score 0 below
        scores = f_classif(x, y)[0]
    return np.nan_to_num(scores, nan=0.0, posinf=np.finfo(float).max)


class MedianImputer(TransformerMixin, BaseEstimator):
    """Fill missing values with the training medians (0 for a column with none); keeps a DataFrame a DataFrame.

    >>> MedianImputer().fit_transform(pd.DataFrame({"a": [1.0, None, 3.0]}))["a"].tolist()
    [1.0, 2.0, 3.0]
    """

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> MedianImputer:
        """Learn each column's median on the training rows (0 for a column with no value).

        >>> MedianImputer().fit(pd.DataFrame({"a": [1.0, None, 3.0], "b": [None, None, None]})).medians_.tolist()
        [2.0, 0.0]
        """
        values = np.asarray(X, dtype=float)
        medians = np.zeros(values.shape[1])
        if values.size:
            # np.median on the complete columns (one vectorised partition); np.nanmedian, which
            # loops over columns in Python on tall arrays, only on the columns with a gap
            gaps = np.isnan(values).any(axis=0)
            medians[~gaps] = np.median(values[:, ~gaps], axis=0)
            if gaps.any():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
                    medians[gaps] = np.nanmedian(values[:, gaps], axis=0)
        self.medians_ = np.where(np.isnan(medians), 0.0, medians)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame | np.ndarray:
        """``X`` with its missing values replaced by the training medians.

        >>> imputer = MedianImputer().fit(pd.DataFrame({"a": [1.0, None, 3.0]}))
        >>> imputer.transform(pd.DataFrame({"a": [None, 5.0]}))["a"].tolist()
        [2.0, 5.0]
        """
        values = np.asarray(X, dtype=float)
        filled = np.where(np.isnan(values), self.medians_[None, :], values)
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(filled, index=X.index, columns=X.columns)
        return filled


class ComBatTransformer(TransformerMixin, BaseEstimator):
    """ComBat as a pipeline step: fitted on the training subjects, applied to the others.

    ``batch`` (and ``covariates``, the biological variables ComBat keeps) are looked up by the
    subject ids in the index of ``X``, which must be a DataFrame. ``passthrough`` columns (e.g.
    clinical covariates used as predictors) are not harmonised. Other keywords go to
    :func:`~kg.analysis.stats.combat.fit_combat`. ``transform`` returns an array with the columns
    in input order (``set_output(transform="pandas")`` for a DataFrame).

    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
    >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
    >>> batch = pd.Series(["A"] * 20 + ["B"] * 20, index=X.index)
    >>> ComBatTransformer(batch=batch, eb=False).fit_transform(X).shape
    (40, 3)
    """

    def __init__(
        self,
        batch: pd.Series | None = None,
        covariates: pd.DataFrame | None = None,
        passthrough: Sequence[str] = (),
        parametric: bool = True,
        eb: bool = True,
        mean_only: bool = False,
        ref_batch: Hashable | None = None,
    ) -> None:
        self.batch = batch
        self.covariates = covariates
        self.passthrough = passthrough
        self.parametric = parametric
        self.eb = eb
        self.mean_only = mean_only
        self.ref_batch = ref_batch

    def _split(self, X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        if not isinstance(X, pd.DataFrame):
            raise StatsError(
                "ComBatTransformer needs a DataFrame indexed by subject id (set_output(transform='pandas'))"
            )
        if self.batch is None:
            raise StatsError("ComBatTransformer needs batch= (a Series of batch labels by subject id)")
        passthrough = [c for c in X.columns if c in set(self.passthrough)]
        return X.drop(columns=passthrough), passthrough

    def fit(self, X: pd.DataFrame, y: Any = None) -> ComBatTransformer:
        """Fit ComBat on the training subjects of ``X`` (a DataFrame indexed by subject id).

        :raises StatsError: ``X`` is not a DataFrame, or no ``batch`` was given.

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> batch = pd.Series(["A"] * 20 + ["B"] * 20, index=X.index)
        >>> ComBatTransformer(batch=batch, eb=False).fit(X).model_.n_per_batch
        {'A': 20, 'B': 20}
        """
        features, _ = self._split(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        assert self.batch is not None
        covariates = None if self.covariates is None else self.covariates.loc[features.index]
        self.model_: ComBatModel = fit_combat(
            features,
            self.batch.loc[features.index],
            covariates=covariates,
            parametric=self.parametric,
            eb=self.eb,
            mean_only=self.mean_only,
            ref_batch=self.ref_batch,
        )
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Harmonise the subjects of ``X`` with the fitted parameters (an array, columns in input order).

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> batch = pd.Series(["A"] * 20 + ["B"] * 20, index=X.index)
        >>> fitted = ComBatTransformer(batch=batch, eb=False).fit(X.iloc[::2])
        >>> fitted.transform(X.iloc[1::2]).shape
        (20, 3)
        """
        features, passthrough = self._split(X)
        assert self.batch is not None
        covariates = None if self.covariates is None else self.covariates.loc[features.index]
        out = self.model_.apply(features, self.batch.loc[features.index], covariates=covariates)
        return pd.concat([out, X[passthrough]], axis=1)[list(X.columns)].to_numpy(dtype=float)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The column names of ``X`` at fit time.

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> batch = pd.Series(["A"] * 20 + ["B"] * 20, index=X.index)
        >>> ComBatTransformer(batch=batch, eb=False).fit(X).get_feature_names_out().tolist()
        ['f1', 'f2', 'f3']
        """
        return np.asarray(self.feature_names_in_, dtype=object)


def _logistic(seed: int, penalty: str, C: float, l1_ratio: float) -> LogisticRegression:
    ratio = 0.0 if penalty == "l2" else l1_ratio
    solver = "lbfgs" if penalty == "l2" else "saga"
    deprecated_penalty = inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated"
    if deprecated_penalty:  # scikit-learn >= 1.8: the penalty is set by l1_ratio
        return LogisticRegression(C=C, l1_ratio=ratio, solver=solver, max_iter=10_000, random_state=seed)
    if penalty == "l2":
        return LogisticRegression(C=C, solver=solver, max_iter=10_000, random_state=seed)
    return LogisticRegression(
        penalty="elasticnet", C=C, l1_ratio=ratio, solver=solver, max_iter=10_000, random_state=seed
    )


def build_pipeline(
    *,
    model: Model = "logistic",
    seed: int = 0,
    penalty: Literal["l2", "elasticnet"] = "l2",
    C: float = 1.0,
    l1_ratio: float = 0.5,
    n_estimators: int = 300,
    select_k: int | None = 10,
    selection: Literal["anova", "mann-whitney"] = "anova",
    keep: Sequence[int] = (),
    harmonise: ComBatTransformer | None = None,
) -> Pipeline:
    """The prediction pipeline: impute, [ComBat], scale, [select], classifier.

    Without ``harmonise`` it takes arrays; with it, a DataFrame indexed by subject id (ComBat
    looks batches up there). ``keep``: column positions the selection always keeps.

    >>> [name for name, _ in build_pipeline(select_k=2).steps]
    ['impute', 'scale', 'select', 'classifier']
    >>> build_pipeline(model="svm")
    Traceback (most recent call last):
    ...
    kg.analysis.stats.errors.StatsError: model must be 'logistic' or 'random-forest', not 'svm'
    """
    steps: list[tuple[str, Any]] = [("impute", MedianImputer())]
    if harmonise is not None:
        steps.append(("harmonise", harmonise))
    steps.append(("scale", StandardScaler()))
    if select_k is not None:
        steps.append(("select", UnivariateFilter(k=select_k, method=selection, keep=keep)))
    if model == "logistic":
        steps.append(("classifier", _logistic(seed, penalty, C, l1_ratio)))
    elif model == "random-forest":
        steps.append(
            ("classifier", RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1))
        )
    else:
        raise StatsError(f"model must be 'logistic' or 'random-forest', not {model!r}")
    return Pipeline(steps)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ExternalValidation:
    """AUC of the final model on another cohort, with its DeLong 95% CI.

    >>> ExternalValidation(auc=0.8, auc_ci_low=0.6, auc_ci_high=0.95, n=30, n_positive=12).ci_method
    'DeLong 95% CI (Sun & Xu 2014 midrank algorithm)'
    """

    auc: float
    auc_ci_low: float
    auc_ci_high: float
    n: int
    n_positive: int
    ci_method: str = "DeLong 95% CI (Sun & Xu 2014 midrank algorithm)"


@dataclass(frozen=True)
class PredictionResult:
    """Cross-validated AUC of a marker prediction, its CI, permutation p-value, settings and final model.

    ``features_used``: the inputs of the final model (refitted on all subjects) after selection;
    ``feature_weights``: their logistic coefficients (standardised scale) or forest importances.

    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
    >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
    >>> result = predict_marker(X, y, repeats=2, permutations=0, seed=1)
    >>> result.n, result.n_positive, result.auc > 0.8, result.permutation_p is None
    (40, 16, True, True)
    """

    auc: float
    auc_ci_low: float
    auc_ci_high: float
    permutation_p: float | None
    n: int
    n_positive: int
    model: str
    folds: int
    repeats: int
    permutations: int
    seed: int
    ci_method: str
    features_used: tuple[str, ...]
    auc_per_repeat: tuple[float, ...]
    marker: str = ""
    selection: str = ""
    select_k: int | None = None
    covariates: tuple[str, ...] = ()
    harmonisation: dict[str, Any] | None = None
    null_auc_mean: float | None = None
    external: ExternalValidation | None = None
    feature_weights: dict[str, float] = field(default_factory=dict)
    validation: str = ""
    test: str = ""
    final_model: Pipeline | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Every field but the fitted model, JSON-serialisable (tuples as lists).

        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
        >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
        >>> result = predict_marker(X, y, repeats=2, permutations=0, seed=1)
        >>> result.to_dict()["features_used"]
        ['f1', 'f2', 'f3']
        """
        out: dict[str, Any] = {}
        for item in fields(self):
            if item.name == "final_model":
                continue
            value = getattr(self, item.name)
            out[item.name] = asdict(value) if isinstance(value, ExternalValidation) else value
        return _jsonable(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    return value


# --------------------------------------------------------------------------- procedure


def _rows(x: pd.DataFrame | np.ndarray, index: np.ndarray) -> pd.DataFrame | np.ndarray:
    return x.iloc[index] if isinstance(x, pd.DataFrame) else x[index]


def _cv_aucs(
    pipeline: Pipeline, x: pd.DataFrame | np.ndarray, y: np.ndarray, folds: int, repeats: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-repeat pooled out-of-fold AUC and its DeLong variance (single-threaded BLAS: the fits are
    small, and threaded BLAS on small matrices stalls on a busy machine)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _cv_aucs_unlimited(pipeline, x, y, folds, repeats, seed)


def _cv_aucs_unlimited(
    pipeline: Pipeline, x: pd.DataFrame | np.ndarray, y: np.ndarray, folds: int, repeats: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    aucs = np.empty(repeats)
    variances = np.empty(repeats)
    oof = np.full(len(y), np.nan)
    for i, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        fitted = clone(pipeline).fit(_rows(x, train), y[train])
        oof[test] = fitted.predict_proba(_rows(x, test))[:, 1]
        if (i + 1) % folds == 0:
            r = i // folds
            aucs[r], variances[r] = delong_auc(y, oof)
            oof[:] = np.nan
    return aucs, variances


def _final_weights(fitted: Pipeline, names: Sequence[str]) -> tuple[tuple[str, ...], dict[str, float]]:
    """The final model's inputs (after selection) and their coefficients or importances."""
    used_names = np.asarray([str(n) for n in names], dtype=object)
    if "select" in fitted.named_steps:
        used_names = used_names[fitted.named_steps["select"].selected_]
    classifier = fitted.named_steps["classifier"]
    if isinstance(classifier, LogisticRegression):
        weights = classifier.coef_.ravel()
        pairs = [(n, float(w)) for n, w in zip(used_names, weights) if w != 0.0]
    else:
        pairs = [(n, float(w)) for n, w in zip(used_names, classifier.feature_importances_)]
    return tuple(n for n, _ in pairs), dict(pairs)


def _numeric_features(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """``frame`` as float64; a column that is not numeric is an error (pass it as a covariate instead)."""
    bad = [
        c
        for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_bool_dtype(frame[c].dtype)
    ]
    if bad:
        raise StatsError(
            f"{what}: column {bad[0]!r} is not numeric ({len(bad)} such columns); "
            "drop it, or pass it with covariates= to use it as a predictor"
        )
    return frame.astype("float64")


def predict_marker(
    features: pd.DataFrame,
    marker: pd.Series,
    *,
    model: Model = "logistic",
    covariates: pd.DataFrame | None = None,
    harmonise_batch: pd.Series | None = None,
    harmonise_covariates: pd.DataFrame | None = None,
    harmonise_options: dict[str, Any] | None = None,
    select_k: int | None = 10,
    selection: Literal["anova", "mann-whitney"] = "anova",
    penalty: Literal["l2", "elasticnet"] = "l2",
    C: float = 1.0,
    l1_ratio: float = 0.5,
    n_estimators: int = 300,
    folds: int = 5,
    repeats: int = 10,
    permutations: int = 200,
    seed: int = 0,
    ci_method: Literal["delong", "repeats"] = "delong",
    positive: Hashable | None = None,
    external: tuple[pd.DataFrame, pd.Series] | None = None,
    n_jobs: int = 1,
) -> PredictionResult:
    """Cross-validated prediction of a binary ``marker`` from ``features`` (subjects x features).

    Subjects: those in ``features`` with a known marker (and every covariate, when given);
    ``n``/``n_positive`` count them. ``marker`` is coded by
    :func:`~kg.analysis.stats.design.binary_marker` (``positive`` names the level coded 1).
    ``covariates`` are extra predictors (dummy-coded, never filtered out); ``harmonise_batch``
    (batch label by subject) adds ComBat inside the folds (``harmonise_covariates``: biological
    variables ComBat keeps; ``harmonise_options``: ``parametric``, ``eb``, ``mean_only``, ``ref_batch``).
    ``select_k=None`` skips selection. ``external=(features, marker)`` of another cohort is
    predicted by the model refitted on all subjects here (its subjects need the same features;
    ``covariates`` and ``harmonise_batch`` must then cover them too, with levels and batches seen here).
    ``n_jobs`` runs the permutations in parallel processes (joblib); the numbers do not depend on it.

    :raises StatsError: fewer than ``folds`` subjects of a class, or unusable inputs.

    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"], index=[f"s{i}" for i in range(40)])
    >>> y = pd.Series((X["f1"] + rng.normal(scale=0.5, size=40) > 0).astype(int), index=X.index, name="EGFR")
    >>> result = predict_marker(X, y, select_k=1, repeats=2, permutations=0, seed=1)
    >>> result.features_used, result.auc_ci_low < result.auc < result.auc_ci_high
    (('f1',), True)
    """
    y_all = binary_marker(marker, positive=positive)
    subjects = features.index.intersection(y_all.index[y_all.notna()], sort=False)
    x = _numeric_features(features.loc[subjects], "features")
    keep: list[int] = []
    design_terms: tuple[str, ...] = ()
    design = None
    if covariates is not None and len(covariates.columns):
        design = design_matrix(covariates, index=subjects)
        subjects = design.matrix.index
        x = x.loc[subjects]
        coded = design.matrix.add_prefix("covariate: ")
        keep = list(range(x.shape[1], x.shape[1] + coded.shape[1]))
        design_terms = tuple(design.term_names)
        x = pd.concat([x, coded], axis=1)
    y = y_all.loc[subjects].to_numpy(dtype=int)
    n_pos = int(y.sum())
    if min(n_pos, len(y) - n_pos) < folds:
        raise StatsError(
            f"predict {marker.name!r}: {n_pos} positive and {len(y) - n_pos} negative subjects; "
            f"each class needs at least {folds} (one per fold)"
        )
    harmonise = None
    names = [str(c) for c in x.columns]
    if harmonise_batch is not None:
        harmonise = ComBatTransformer(
            batch=harmonise_batch,
            covariates=harmonise_covariates,
            passthrough=[names[i] for i in keep],
            **(harmonise_options or {}),
        )
        data: pd.DataFrame | np.ndarray = x.set_axis(names, axis=1)
    else:
        data = x.to_numpy(dtype=float)
    pipeline = build_pipeline(
        model=model,
        seed=seed,
        penalty=penalty,
        C=C,
        l1_ratio=l1_ratio,
        n_estimators=n_estimators,
        select_k=select_k,
        selection=selection,
        keep=keep,
        harmonise=harmonise,
    )
    aucs, variances = _cv_aucs(pipeline, data, y, folds, repeats, seed)
    auc = float(aucs.mean())
    if ci_method == "delong":
        low, high = _delong_ci(auc, float(variances.mean()))
        ci_text = (
            "DeLong 95% CI: mean AUC over repeats +- 1.96 sqrt(mean over repeats of the DeLong variance "
            "of the pooled out-of-fold AUC), clipped to [0, 1]"
        )
    elif ci_method == "repeats":
        low, high = (float(v) for v in np.percentile(aucs, [2.5, 97.5]))
        ci_text = (
            "2.5-97.5 percentiles of the per-repeat pooled out-of-fold AUCs (partition variability only)"
        )
    else:
        raise StatsError(f"ci_method must be 'delong' or 'repeats', not {ci_method!r}")

    p_value = None
    null_mean = None
    if permutations:
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        shuffled = [rng.permutation(y) for _ in range(permutations)]
        if n_jobs == 1:
            null = np.array([_cv_aucs(pipeline, data, yp, folds, repeats, seed)[0].mean() for yp in shuffled])
        else:
            runs = Parallel(n_jobs=n_jobs)(
                delayed(_cv_aucs)(pipeline, data, yp, folds, repeats, seed) for yp in shuffled
            )
            null = np.array([aucs_p.mean() for aucs_p, _ in runs])
        p_value = float((1 + np.sum(null >= auc - 1e-12)) / (1 + permutations))
        null_mean = float(null.mean())

    final = clone(pipeline).fit(data, y)
    used, weights = _final_weights(final, names)

    external_result = None
    if external is not None:
        ext_x, ext_marker = external
        ext_y = binary_marker(ext_marker, positive=positive)
        ext_subjects = ext_x.index.intersection(ext_y.index[ext_y.notna()], sort=False)
        ext_frame = _numeric_features(ext_x.loc[ext_subjects], "external features")
        missing = [c for c in features.columns if c not in ext_frame.columns]
        if missing:
            raise StatsError(f"external cohort lacks features {missing[:5]} ({len(missing)} in all)")
        ext_frame = ext_frame[list(features.columns)]
        if design is not None:
            assert covariates is not None
            ext_design = design.encode(covariates.reindex(ext_subjects))
            ext_frame = pd.concat(
                [ext_frame.loc[ext_design.index], ext_design.add_prefix("covariate: ")], axis=1
            )
        truth = ext_y.loc[ext_frame.index].to_numpy(dtype=int)
        ext_data = (
            ext_frame.set_axis(names, axis=1) if harmonise is not None else ext_frame.to_numpy(dtype=float)
        )
        ext_auc, ext_var = delong_auc(truth, final.predict_proba(ext_data)[:, 1])
        ext_low, ext_high = _delong_ci(ext_auc, ext_var)
        external_result = ExternalValidation(ext_auc, ext_low, ext_high, len(truth), int(truth.sum()))

    classifier = (
        f"logistic regression ({'L2' if penalty == 'l2' else f'elastic-net, l1_ratio={l1_ratio}'}, C={C})"
        if model == "logistic"
        else f"random forest ({n_estimators} trees)"
    )
    steps = (
        "median imputation, "
        + ("ComBat, " if harmonise else "")
        + "standardisation, "
        + (f"{selection} filter keeping {select_k} features, " if select_k is not None else "")
    )
    result = PredictionResult(
        auc=auc,
        auc_ci_low=float(low),
        auc_ci_high=float(high),
        permutation_p=p_value,
        n=len(y),
        n_positive=n_pos,
        model=steps + classifier,
        folds=folds,
        repeats=repeats,
        permutations=permutations,
        seed=seed,
        ci_method=ci_text,
        features_used=used,
        auc_per_repeat=tuple(float(a) for a in aucs),
        marker=str(marker.name) if marker.name is not None else "",
        selection=selection if select_k is not None else "none",
        select_k=select_k,
        covariates=design_terms,
        harmonisation=None
        if harmonise is None
        else {
            "batch": str(harmonise_batch.name)
            if harmonise_batch is not None and harmonise_batch.name is not None
            else "batch",
            **final.named_steps["harmonise"].model_.settings(),
        },
        null_auc_mean=null_mean,
        external=external_result,
        feature_weights=weights,
        validation=(
            f"repeated stratified {folds}-fold cross-validation, {repeats} repeats (seed {seed}); "
            "out-of-fold probabilities pooled per repeat; every step fitted on the training folds only"
        ),
        test=(
            f"label permutation test, {permutations} permutations of the whole procedure, one-sided, "
            "p = (1 + #null AUC >= observed) / (1 + permutations); no multiple-testing correction"
        ),
        final_model=final,
    )
    logger.info(
        "predict %s: AUC %.3f [%.3f, %.3f], permutation p %s, n %d",
        result.marker,
        auc,
        low,
        high,
        p_value,
        len(y),
    )
    return result
