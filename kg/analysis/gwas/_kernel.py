"""The exact linear-regression kernel for one dosage block and one phenotype group.

Model, per feature y and variant g on the group's n subjects: ``y = a + C b + beta g + e`` (OLS).
With M the projection off [1, C] (QR once per group), ``beta = (My)'(Mg) / (Mg)'(Mg)``,
``RSS = (My)'(My) - beta^2 (Mg)'(Mg)``, ``se = sqrt(RSS / (n - k - 1) / (Mg)'(Mg))``, ``t = beta / se``,
two-sided ``p = 2 * P(T_{n-k-1} > |t|)`` computed as the upper tail itself (``scipy.special.stdtr`` at
``-|t|``, what ``scipy.stats.t.sf`` uses), so small p keep full relative precision down to ~1e-308.
Because My is orthogonal to [1, C], ``(My)'(Mg) = (My)'g``: the cost per block is one matrix product
(features x subjects x variants) plus O(subjects x variants x k).

Missing dosages are mean-imputed per variant over the group's subjects (as PLINK 2 --glm's and REGENIE's
``mean-impute``); ``n`` counts every subject of the group, imputed or not; ``eaf`` is half the mean
dosage over the observed calls.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._design import PhenotypeGroup

__all__ = ["BlockStats", "block_statistics", "two_sided_p"]


@dataclass(frozen=True)
class BlockStats:
    """Statistics of one group x block: arrays of shape (features, variants), eaf of (variants,)."""

    columns: np.ndarray  # variant positions within the block that were tested (after maf_min)
    eaf: np.ndarray
    beta: np.ndarray
    se: np.ndarray
    p: np.ndarray
    log10_p: np.ndarray | None


def two_sided_p(t: np.ndarray, df: int, *, threads: int | None = None) -> np.ndarray:
    """``2 * P(T_df > |t|)`` by ``scipy.special.stdtr`` (the upper tail itself, no ``1 - cdf``).

    Large arrays are split over ``threads`` threads (default: the CPUs this process may use); the
    ufunc releases the GIL, and each element is computed exactly as in one call.
    """
    return _two_sided_p_inplace(np.negative(np.abs(t)), df, threads=threads)


def _two_sided_p_inplace(neg: np.ndarray, df: int, *, threads: int | None = None) -> np.ndarray:
    """:func:`two_sided_p` of ``neg = -|t|``, overwriting ``neg`` with the p-values (no temporaries)."""
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if threads <= 1 or neg.size < 1 << 16 or neg.ndim != 2 or neg.shape[0] < 2:
        special.stdtr(df, neg, out=neg)
    else:
        chunks = np.array_split(np.arange(neg.shape[0]), min(threads, neg.shape[0]))

        def run(rows: np.ndarray) -> None:
            part = neg[rows[0]: rows[-1] + 1]
            special.stdtr(df, part, out=part)

        list(_pool(threads).map(run, chunks))
    neg *= 2.0
    return neg


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="gwas-p")
    return _POOLS[threads]


def block_statistics(
    group: PhenotypeGroup,
    dosages: np.ndarray,
    *,
    maf_min: float = 0.0,
    log10_p: bool = False,
    threads: int | None = None,
) -> BlockStats:
    """Test every feature of ``group`` against every variant column of ``dosages`` (design rows x variants).

    Variants whose minor allele frequency on the group's subjects is below ``maf_min`` are left out;
    monomorphic variants (no variance left after the covariates) get NaN beta, se and p.
    """
    rows = group.rows
    every_row = len(rows) == len(dosages) and bool((rows == np.arange(len(rows))).all())
    g = np.asarray(dosages if every_row else dosages[rows], dtype=np.float64)
    owned = not every_row or not np.may_share_memory(g, dosages)  # a copy made here may be centred in place
    missing = np.isnan(g)
    any_missing = missing.any()
    observed = group.n - missing.sum(axis=0) if any_missing else np.full(g.shape[1], group.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.nansum(g, axis=0) if any_missing else g.sum(axis=0)) / observed
    eaf = mean / 2
    columns = np.arange(g.shape[1])
    if maf_min > 0:
        keep = np.minimum(eaf, 1 - eaf) >= maf_min
        columns, g, mean, eaf = columns[keep], g[:, keep], mean[keep], eaf[keep]
        owned = True
        if any_missing:
            missing = missing[:, keep]
    if owned:
        g -= mean  # centred; a missing call becomes 0 = the mean (mean imputation)
    else:
        g = np.subtract(g, mean)  # the caller's block stays as it was: centred copy in one pass
    if any_missing:
        g[missing] = 0.0
    ss = np.einsum("ij,ij->j", g, g)
    product = group.zt @ g  # one matrix product: rows y'g (features) then q'g (k)
    f = len(group.features)
    numerator, qg = product[:f], product[f:]
    gg = ss - np.einsum("ij,ij->j", qg, qg)
    degenerate = ~(gg > 1e-9 * np.maximum(ss, 1e-300))
    gg = np.where(degenerate, np.nan, gg)
    # The same operations in the same order as beta = num / gg; se = sqrt(max(yy - beta num, 0) / df / gg);
    # t = beta / se, done in place: each (features x variants) pass writes into an array it owns.
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.divide(numerator, gg)
        se = np.multiply(beta, numerator)
        np.subtract(group.yy[:, None], se, out=se)
        np.maximum(se, 0.0, out=se)
        se /= group.df
        se /= gg
        np.sqrt(se, out=se)
        neg = np.divide(beta, se)  # t
        np.abs(neg, out=neg)
    logp = None
    if log10_p:
        from scipy import stats

        logp = (np.log(2.0) + stats.t.logsf(neg, group.df)) / np.log(10.0)
    np.negative(neg, out=neg)
    p = _two_sided_p_inplace(neg, group.df, threads=threads)
    return BlockStats(columns=columns, eaf=eaf, beta=beta, se=se, p=p, log10_p=logp)
