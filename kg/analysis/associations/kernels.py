"""The numeric kernels of the association engine: every feature against every target, in bulk.

Features are the imaging side (radiomic features, or semantic traits as category codes or
ranks); targets the molecular side (gene expression, pathway scores, binary markers). One
*analysis* tests every feature against every target with one method and corrects for
multiple testing over all its tests (Benjamini-Hochberg and Bonferroni).

The numbers are scipy's: Spearman = ``scipy.stats.spearmanr``, Pearson and point-biserial =
``pearsonr`` / ``pointbiserialr``, Mann-Whitney = ``mannwhitneyu(x_positive, x_negative,
alternative="two-sided")`` with scipy's own choice of exact or asymptotic method, tie and
continuity correction; Kruskal-Wallis = ``kruskal``; q = ``false_discovery_control``. They
are computed in bulk: ranks by one sort per column, correlations as one matrix product per
chunk of targets, rank sums as matrix products with group indicators; missing values are
handled pairwise by grouping columns that share a missingness pattern, so each block of
pairs has the same subjects (and is ranked on exactly those subjects, as scipy would).

When only the significant set is wanted, p-values are computed for candidate pairs only:
a pair can have ``q <= q_max`` only if ``p <= q_max``, i.e. ``|r|`` at least the critical
``r`` for ``q_max`` at its ``n``; BH over the ``m`` tests then needs only those candidates,
sorted (their ranks among all ``m`` are their ranks among the candidates).
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rdflib import URIRef

from kg.core.errors import AssociationError
from kg.core.namespaces import STATO
from kg.analysis.stats.fdr import bh_fdr as benjamini_hochberg  # one BH for every analysis

__all__ = ["METHODS", "RESULT_COLUMNS", "Method", "associate", "benjamini_hochberg", "rank_columns"]

logger = logging.getLogger(__name__)


class _Lazy:
    """A scipy submodule imported on first use: ``scipy.stats`` alone is about half a second of
    every ``igkg`` command's start-up, and most analyses never call it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


special = _Lazy("scipy.special")
stats = _Lazy("scipy.stats")

_ERF = np.frompyfunc(math.erf, 1, 1)
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _ndtr(a: np.ndarray) -> np.ndarray:
    """``scipy.special.ndtr`` (the standard normal CDF): for a few thousand values, cephes' own
    formula over ``math.erf``/``erfc`` (so a Mann-Whitney analysis never imports scipy, a fifth
    of a second of start-up); scipy's ufunc for larger arrays.

    >>> from scipy import special as sp
    >>> z = np.array([-40.0, -3.1, -0.2, 0.0, 0.4, 2.5, np.nan])
    >>> np.allclose(_ndtr(z), sp.ndtr(z), rtol=1e-14, atol=0, equal_nan=True)
    True
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size > 50_000:
        return np.asarray(special.ndtr(a))
    x = a * math.sqrt(0.5)
    z = np.abs(x)
    with np.errstate(invalid="ignore"):
        small = z < math.sqrt(0.5)
        tail = 0.5 * _ERFC(z).astype(np.float64)
        tail = np.where(x > 0, 1.0 - tail, tail)
        return np.where(small, 0.5 + 0.5 * _ERF(x).astype(np.float64), tail)

RESULT_COLUMNS = ["feature", "target", "method", "statistic", "effect_size", "p", "q", "bonferroni", "n"]
"""Columns of the engine's result frame (the CSV drops ``bonferroni``)."""


@dataclass(frozen=True)
class Method:
    """A statistical method: its name, STATO term and what it needs of features and targets.

    >>> METHODS["mannwhitney"].target, METHODS["mannwhitney"].effect
    ('binary', 'AUC')
    """

    name: str
    label: str
    stato: URIRef
    target: str
    """``continuous`` or ``binary``: what kind of target the method takes."""
    feature: str = "continuous"
    """``continuous`` (numbers) or ``categorical`` (category codes)."""
    effect: str = "r"


METHODS: dict[str, Method] = {
    # STATO ids verified in ISA-tools/stato dev/ontology/reasoned/obo/stato-reasoned.obo.
    "spearman": Method("spearman", "Spearman's rank correlation coefficient", STATO["0000201"], "continuous"),
    "pearson": Method("pearson", "Pearson's correlation coefficient", STATO["0000280"], "continuous"),
    "mannwhitney": Method("mannwhitney", "Mann-Whitney U-test", STATO["0000076"], "binary", effect="AUC"),
    # STATO has no point-biserial term: it is Pearson's r with one variable coded 0/1.
    "pointbiserial": Method("pointbiserial", "point-biserial correlation (Pearson's r on a 0/1 variable)", STATO["0000280"], "binary"),
    "kruskal": Method("kruskal", "Kruskal Wallis test", STATO["0000094"], "continuous", feature="categorical", effect="epsilon-squared"),
}
"""Method name -> ``Method``; the CLI's ``--method`` choices."""

_MARGIN = 1e-7
"""Relative slack on critical values so that no candidate is lost to rounding."""


# ---------------------------------------------------------------------- ranks and FDR
def rank_columns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1..n) of each column of a complete 2-D array, and each column's
    tie term ``sum(t**3 - t)`` over its groups of tied values.

    Equal to ``scipy.stats.rankdata(values, axis=0)``, in one sort per column.

    >>> ranks, ties = rank_columns(np.array([[3.0, 1], [1, 1], [3, 2]]))
    >>> ranks.tolist(), ties.tolist()
    ([[2.5, 1.5], [1.0, 1.5], [2.5, 3.0]], [6.0, 6.0])
    """
    values = np.asarray(values, dtype=float)
    n, k = values.shape
    # Work on rows (one per column of ``values``): sorting, gathering and scattering
    # contiguous memory is several times faster than along strided columns.
    rows = np.ascontiguousarray(values.T)
    order = np.argsort(rows, axis=1)
    ordered = np.take_along_axis(rows, order, axis=1)
    ranked_sorted = np.broadcast_to(np.arange(1, n + 1, dtype=float), (k, n))
    ties = np.zeros(k)
    equal = ordered[:, 1:] == ordered[:, :-1]
    tied = equal.any(axis=1) if n > 1 else np.zeros(k, dtype=bool)
    if tied.any():
        ranked_sorted = np.array(ranked_sorted)
        same = equal[tied]
        index = np.arange(n)[None, :]
        starts_group = np.ones((same.shape[0], n), dtype=bool)
        starts_group[:, 1:] = ~same
        ends_group = np.ones_like(starts_group)
        ends_group[:, :-1] = ~same
        start = np.maximum.accumulate(np.where(starts_group, index, 0), axis=1)
        end = np.minimum.accumulate(np.where(ends_group, index, n - 1)[:, ::-1], axis=1)[:, ::-1]
        ranked_sorted[tied] = (start + end) / 2.0 + 1.0
        count = (end - start + 1).astype(float)
        ties[tied] = np.where(starts_group, count**3 - count, 0.0).sum(axis=1)
    ranks = np.empty((k, n))
    np.put_along_axis(ranks, order, ranked_sorted, axis=1)
    return ranks.T, ties


# ---------------------------------------------------------------------- p-values
def _correlation_p(r: np.ndarray, n: int, method: str) -> np.ndarray:
    """Two-sided p of correlation coefficients at sample size n, as scipy computes it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "spearman":
            dof = n - 2
            t = r * np.sqrt((dof / ((r + 1.0) * (1.0 - r))).clip(0))
            return 2 * special.stdtr(dof, -np.abs(t))
        ab = n / 2 - 1
        return 2 * special.betaincc(ab, ab, (np.abs(r) + 1) / 2)


def _critical_r(q_max: float, n: int, method: str) -> float:
    """The smallest |r| whose two-sided p is at most ``q_max`` at sample size n."""
    if q_max >= 1:
        return 0.0
    if method == "spearman":
        dof = n - 2
        t = -special.stdtrit(dof, q_max / 2)
        return float(t / np.sqrt(dof + t * t))
    ab = n / 2 - 1
    return float(2 * special.betainccinv(ab, ab, q_max / 2) - 1)


# ---------------------------------------------------------------------- blocks
@dataclass
class _Part:
    """What one block of pairs gave: pair indices, numbers, and how many pairs were tested."""

    fi: np.ndarray
    ti: np.ndarray
    statistic: np.ndarray
    effect: np.ndarray
    p: np.ndarray
    n: np.ndarray


def _patterns(present: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group the columns of a presence mask by identical pattern: [(row mask, columns)]."""
    if present.shape[1] == 0:
        return []
    if present.all():
        return [(np.ones(present.shape[0], dtype=bool), np.arange(present.shape[1]))]
    packed = np.packbits(present, axis=0)
    _, first, inverse = np.unique(packed.T, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [(present[:, first[g]], np.flatnonzero(inverse == g)) for g in range(len(first))]


def _take(values: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The block of ``values`` at these rows and columns (the array itself, not a copy, when that is all of it)."""
    if rows.all() and len(columns) == values.shape[1]:
        return values
    return values[np.ix_(rows, columns)]


def _standardise(values: np.ndarray) -> np.ndarray:
    """Centre each column and scale it to unit norm (a constant column becomes NaN)."""
    centred = values - values.mean(axis=0)
    norm = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    with np.errstate(divide="ignore", invalid="ignore"):
        return centred / np.where(norm > 0, norm, np.nan)


class _Engine:
    """Runs one analysis over aligned numpy arrays (rows = subjects)."""

    def __init__(self, method: Method, *, min_n: int, q_max: float, only_significant: bool, chunk_size: int) -> None:
        self.method = method
        self.min_n = max(int(min_n), 3)
        self.q_max = float(q_max)
        self.only_significant = only_significant
        self.chunk_size = max(int(chunk_size), 1)
        self.tests = 0
        self.parts: list[_Part] = []

    # -------------------------------------------------------------- driver
    def run(self, features: np.ndarray, targets: np.ndarray) -> None:
        f_present = ~np.isnan(features)
        t_present = ~np.isnan(targets)
        f_groups = _patterns(f_present)
        t_groups = _patterns(t_present)
        if len(f_groups) * len(t_groups) > 1:
            logger.info("missing values: %d feature x %d target patterns", len(f_groups), len(t_groups))
        for f_rows, f_cols in f_groups:
            for t_rows, t_cols in t_groups:
                rows = f_rows & t_rows
                if rows.sum() < self.min_n:
                    continue
                self._block(_take(features, rows, f_cols), _take(targets, rows, t_cols), f_cols, t_cols)

    def _block(self, x: np.ndarray, y: np.ndarray, f_cols: np.ndarray, t_cols: np.ndarray) -> None:
        name = self.method.name
        if name in ("spearman", "pearson", "pointbiserial"):
            prepared = _standardise(rank_columns(x)[0] if name == "spearman" else x)
            kernel = self._correlation
        elif name == "mannwhitney":
            prepared = rank_columns(x)
            kernel = self._mann_whitney
        else:
            prepared = x
            kernel = self._kruskal
        for start in range(0, y.shape[1], self.chunk_size):
            chunk = slice(start, start + self.chunk_size)
            kernel(prepared, x, y[:, chunk], f_cols, t_cols[chunk])

    def _keep(self, fi: np.ndarray, ti: np.ndarray, statistic: np.ndarray, effect: np.ndarray, p: np.ndarray, n: int | np.ndarray) -> None:
        tested = np.isfinite(p)
        self.tests += int(tested.sum())
        keep = tested & (p <= self.q_max) if self.only_significant else tested
        if not keep.any():
            return
        n_arr = np.broadcast_to(np.asarray(n), p.shape)
        self.parts.append(_Part(fi[keep], ti[keep], statistic[keep], effect[keep], p[keep], n_arr[keep].astype(int)))

    # -------------------------------------------------------------- kernels
    def _correlation(self, zx: np.ndarray, x: np.ndarray, y: np.ndarray, f_cols: np.ndarray, t_cols: np.ndarray) -> None:
        n = y.shape[0]
        kind = "spearman" if self.method.name == "spearman" else "pearson"
        zy = _standardise(rank_columns(y)[0] if kind == "spearman" else y)
        r = zx.T @ zy
        if self.only_significant:
            # No p-values here: keep |r| above the critical r for p = q_max (the only pairs
            # that can reach q <= q_max); ``_refine`` narrows them once m is known. A NaN
            # (constant variable) is never above it, and constant variables make whole
            # columns NaN, so the tests are counted per column.
            self.tests += int(np.isfinite(zx[0]).sum()) * int(np.isfinite(zy[0]).sum())
            cut = _critical_r(self.q_max, n, kind) * (1 - _MARGIN)
            fi, ti = np.nonzero(np.abs(r) >= cut)
            rr = np.clip(r[fi, ti], -1.0, 1.0)
            self.parts.append(_Part(f_cols[fi], t_cols[ti], rr, rr, np.full(len(rr), np.nan), np.full(len(rr), n)))
            return
        r = np.clip(r, -1.0, 1.0)
        p = _correlation_p(r, n, kind)
        fi, ti = np.meshgrid(f_cols, t_cols, indexing="ij")
        self._keep(fi.ravel(), ti.ravel(), r.ravel(), r.ravel(), p.ravel(), n)

    def _refine(self) -> None:
        """Narrow correlation candidates to those that can pass BH, then compute their p.

        With c(t) candidates at p <= t, every BH rejection has p <= q_max * c(t) / m; that
        bound is iterated to its fixed point (on |r| per sample size, no p computed), and
        the p-values of the pairs left are computed exactly.
        """
        if not self.parts or self.method.name not in ("spearman", "pearson", "pointbiserial"):
            return
        kind = "spearman" if self.method.name == "spearman" else "pearson"
        part = _Part(*(np.concatenate([getattr(p, f) for p in self.parts]) for f in ("fi", "ti", "statistic", "effect", "p", "n")))
        magnitude = np.abs(part.statistic)
        sizes = np.unique(part.n)
        by_size = {int(s): part.n == s for s in sizes}
        threshold = self.q_max
        keep = np.ones(len(magnitude), dtype=bool)
        for _ in range(60):
            keep = np.zeros(len(magnitude), dtype=bool)
            for size, rows in by_size.items():
                keep |= rows & (magnitude >= _critical_r(threshold, size, kind) * (1 - _MARGIN))
            narrowed = self.q_max * int(keep.sum()) / max(self.tests, 1)
            if narrowed >= threshold or keep.sum() == 0:
                break
            threshold = narrowed
        fi, ti, stat, n = part.fi[keep], part.ti[keep], part.statistic[keep], part.n[keep]
        p = np.empty(len(stat))
        for size in np.unique(n):
            rows = n == size
            p[rows] = _correlation_p(stat[rows], int(size), kind)
        self.parts = [_Part(fi, ti, stat, stat, p, n)]

    def _mann_whitney(self, prepared: tuple[np.ndarray, np.ndarray], x: np.ndarray, y: np.ndarray, f_cols: np.ndarray, t_cols: np.ndarray) -> None:
        ranks, ties = prepared
        n = y.shape[0]
        n1 = y.sum(axis=0)  # group coded 1 (e.g. Mutant) is scipy's x
        n0 = n - n1
        with np.errstate(divide="ignore", invalid="ignore"):
            u1 = (ranks.T @ y) - n1 * (n1 + 1) / 2  # features x targets
            u2 = n1 * n0 - u1
            u = np.maximum(u1, u2)
            mu = n1 * n0 / 2
            s = np.sqrt(n1 * n0 / 12 * ((n + 1) - ties[:, None] / (n * (n - 1))))
            z = (u - mu - 0.5) / s
            p = np.clip(2 * _ndtr(-z), 0.0, 1.0)
            auc = u1 / (n1 * n0)
        exact_targets = np.flatnonzero(((n1 <= 8) | (n0 <= 8)) & (n1 > 0) & (n0 > 0))
        untied = ties == 0
        for j in exact_targets:
            if not untied.any():
                break
            cols = np.flatnonzero(untied)
            group = y[:, j] == 1
            res = stats.mannwhitneyu(x[group][:, cols], x[~group][:, cols], alternative="two-sided", method="exact", axis=0)
            p[cols, j] = res.pvalue
        p[:, (n1 == 0) | (n0 == 0)] = np.nan
        fi, ti = np.meshgrid(f_cols, t_cols, indexing="ij")
        self._keep(fi.ravel(), ti.ravel(), u1.ravel(), auc.ravel(), p.ravel(), n)

    def _kruskal(self, codes: np.ndarray, x: np.ndarray, y: np.ndarray, f_cols: np.ndarray, t_cols: np.ndarray) -> None:
        n = y.shape[0]
        ranks, ties = rank_columns(y)
        correction = 1 - ties / (n**3 - n)
        for j in range(codes.shape[1]):
            levels = np.unique(codes[:, j])
            h = np.full(y.shape[1], np.nan)
            p = np.full(y.shape[1], np.nan)
            if len(levels) >= 2:
                indicator = (codes[:, j][:, None] == levels[None, :]).astype(float)
                sums = indicator.T @ ranks
                sizes = indicator.sum(axis=0)
                ssbn = (sums**2 / sizes[:, None]).sum(axis=0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    h = (12.0 / (n * (n + 1)) * ssbn - 3 * (n + 1)) / correction
                    p = special.chdtrc(len(levels) - 1, h)
            self._keep(np.full(y.shape[1], f_cols[j]), t_cols, h, h / (n - 1), p, n)

    # -------------------------------------------------------------- result
    def frame(self, feature_names: Sequence[str], target_names: Sequence[str]) -> pd.DataFrame:
        if self.only_significant:
            self._refine()
        if not self.parts:
            frame = pd.DataFrame({c: pd.Series(dtype=float) for c in RESULT_COLUMNS})
            frame[["feature", "target", "method"]] = frame[["feature", "target", "method"]].astype(object)
            return frame
        cat = {f: np.concatenate([getattr(part, f) for part in self.parts]) for f in ("fi", "ti", "statistic", "effect", "p", "n")}
        q = benjamini_hochberg(cat["p"], self.tests)
        order = np.lexsort((cat["ti"], cat["fi"], cat["p"]))
        keep = order[q[order] <= self.q_max] if self.only_significant else order
        frame = pd.DataFrame(
            {
                "feature": np.asarray(feature_names, dtype=object)[cat["fi"][keep]],
                "target": np.asarray(target_names, dtype=object)[cat["ti"][keep]],
                "method": self.method.name,
                "statistic": cat["statistic"][keep],
                "effect_size": cat["effect"][keep],
                "p": cat["p"][keep],
                "q": q[keep],
                "bonferroni": np.minimum(cat["p"][keep] * self.tests, 1.0),
                "n": cat["n"][keep],
            }
        )
        return frame.reset_index(drop=True)


# ---------------------------------------------------------------------- public API
def _as_binary(targets: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """0/1 target matrix; a column with values other than two (0/1) is an error naming it."""
    skipped: list[str] = []
    for column in targets.columns:
        values = pd.unique(targets[column].dropna())
        if len(values) > 2 or not set(np.asarray(values, dtype=object).tolist()) <= {0, 1}:
            shown = ", ".join(map(str, sorted(values, key=str)[:6]))
            raise AssociationError(
                f"marker {column!r} has the values {shown}: a binary test needs two groups coded 0/1 "
                f"(map the statuses first, e.g. Mutant=1, Wildtype=0, others missing)"
            )
        if len(values) < 2:
            skipped.append(str(column))
    return targets.to_numpy(dtype=float), skipped


def associate(
    features: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    method: str = "spearman",
    min_n: int = 10,
    q_max: float = 0.05,
    only_significant: bool = False,
    chunk_size: int = 2048,
) -> pd.DataFrame:
    """Test every feature (column of ``features``) against every target (column of ``targets``).

    Rows of both frames are subjects (the index); they are matched by index, and values
    are used pairwise (a subject missing either value is left out of that pair only).
    Pairs with fewer than ``min_n`` subjects, or with a constant variable, are not tested.
    Returns one row per tested pair (or, with ``only_significant``, per pair with
    ``q <= q_max``) with ``feature, target, method, statistic, effect_size, p, q,
    bonferroni, n``, sorted by p; ``attrs`` holds ``tests`` (m), ``subjects`` and the
    subjects and targets left out.

    ``method``: ``spearman`` / ``pearson`` (continuous targets), ``mannwhitney`` /
    ``pointbiserial`` (targets coded 0/1; U is that of the group coded 1, effect size its
    AUC), ``kruskal`` (features are category codes; effect size epsilon-squared H/(n-1)).

    >>> x = pd.DataFrame({"f": [1.0, 2, 3, 4, 5, 6]}, index=list("abcdef"))
    >>> y = pd.DataFrame({"t": [2.0, 1, 4, 3, 6, 5]}, index=list("abcdef"))
    >>> associate(x, y, min_n=5).round(4).to_dict("records")
    [{'feature': 'f', 'target': 't', 'method': 'spearman', 'statistic': 0.8286, 'effect_size': 0.8286, 'p': 0.0416, 'q': 0.0416, 'bonferroni': 0.0416, 'n': 6}]
    """
    spec, f, t, f_values, t_values, left_out, skipped = prepare(features, targets, method)
    engine = _Engine(spec, min_n=min_n, q_max=q_max, only_significant=only_significant, chunk_size=chunk_size)
    engine.run(f_values, t_values)
    frame = engine.frame([str(c) for c in f.columns], [str(c) for c in t.columns])
    return describe(frame, engine.tests, method=method, subjects=len(f), left_out=left_out, skipped=skipped,
                    min_n=engine.min_n, q_max=q_max)


def describe(frame: pd.DataFrame, tests: int, *, method: str, subjects: int, left_out: list[str], skipped: list[str],
             min_n: int, q_max: float) -> pd.DataFrame:
    """Put a run's counts in ``frame.attrs`` (tests, subjects, unmatched subjects, single-valued targets ...)."""
    frame.attrs.update(
        {
            "tests": tests,
            "subjects": subjects,
            "unmatched_subjects": left_out,
            "single_valued_targets": skipped,
            "method": method,
            "stato": str(METHODS[method].stato),
            "min_n": min_n,
            "q_max": q_max,
        }
    )
    logger.info("%s: %d tests over %d subjects, %d rows", method, tests, subjects, len(frame))
    return frame


def prepare(
    features: pd.DataFrame, targets: pd.DataFrame, method: str
) -> tuple[Method, pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, list[str], list[str]]:
    """Check and align the inputs of ``associate``: (method, features, targets, feature values,
    target values, subjects left out, single-valued targets); rows are the common subjects."""
    if method not in METHODS:
        raise AssociationError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    spec = METHODS[method]
    if features.columns.has_duplicates or targets.columns.has_duplicates:
        dupes = features.columns[features.columns.duplicated()].tolist() + targets.columns[targets.columns.duplicated()].tolist()
        raise AssociationError(f"duplicate variable names {dupes[:5]}; every feature and target needs its own name")
    common = features.index.intersection(targets.index)
    if features.index.has_duplicates or targets.index.has_duplicates:
        raise AssociationError("a subject appears on several rows; give one row per subject")
    left_out = sorted(map(str, features.index.symmetric_difference(targets.index)))
    f = features if features.index.equals(common) else features.loc[common]
    t = targets if targets.index.equals(common) else targets.loc[common]
    skipped: list[str] = []
    if spec.target == "binary":
        t_values, skipped = _as_binary(t)
    else:
        t_values = _numeric(t, "target")
    if spec.feature == "categorical":
        f_values = np.column_stack([_codes(f[c]) for c in f.columns]) if len(f.columns) else np.empty((len(f), 0))
    else:
        f_values = _numeric(f, "feature")
    return spec, f, t, f_values, t_values, left_out, skipped


def _numeric(frame: pd.DataFrame, what: str) -> np.ndarray:
    try:
        return frame.to_numpy(dtype=float)
    except (TypeError, ValueError):
        for column in frame.columns:
            bad = pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()
            if bad.any():
                raise AssociationError(
                    f"{what} {column!r} has a non-numeric value {frame[column][bad].iloc[0]!r} "
                    f"(subject {frame.index[bad][0]!r})"
                ) from None
        raise


def _codes(column: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(column, sort=True)
    return np.where(codes < 0, np.nan, codes).astype(float)
