"""ComBat harmonisation of features across batches (sites, scanners, institutions).

Model (Johnson, Li & Rabinovic 2007; Fortin et al. 2017, 2018 for imaging): for feature ``g``,
subject ``j`` of batch ``i``::

    x_ijg = alpha_g + X_j beta_g + gamma_ig + delta_ig * e_ijg,   e_ijg ~ N(0, sigma_g^2)

``X`` holds the biological covariates to keep (coded by
:func:`~kg.analysis.stats.design.design_matrix`). The data are standardised with the pooled
location/scale, the batch location ``gamma`` and scale ``delta`` are estimated per batch and
feature, and (``eb=True``) shrunk towards their across-feature distribution by empirical Bayes:
parametric (normal prior on ``gamma``, inverse-gamma on ``delta``, solved by the fixed-point
iteration of the reference code) or non-parametric (posterior means under the empirical
distribution of the other features' estimates). ``mean_only`` adjusts location only; with
``ref_batch`` the other batches are mapped onto the reference batch, which is left unchanged.

The numbers follow the reference implementation (Fortin's ``ComBatHarmonization``: R
``combat()``, Python ``neuroCombat`` 0.2.12), including its pooled variance (divided by ``n``),
its joint convergence rule (relative change below 1e-4 over all features of a batch) and its
reference-batch design. There is no hypothesis test and no multiple-testing correction here.

:func:`fit_combat` estimates the parameters on training subjects; :meth:`ComBatModel.apply`
harmonises new subjects of known batches with them (for use inside cross-validation folds);
:func:`combat` does both on one table. Errors (:class:`HarmonisationError`): a batch with one
subject, a covariate confounded with the batch, a missing value, an unknown batch.

>>> import pandas as pd
>>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
>>> result = combat(data, pd.Series(["A", "A", "A", "B", "B", "B"]), eb=False)
>>> result.data.groupby(["A", "A", "A", "B", "B", "B"]).mean().round(3)
    f1   f2
A  4.5  4.0
B  4.5  4.0
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .design import Design, check_not_confounded, design_matrix, missing_mask
from .errors import DesignError, HarmonisationError

__all__ = ["ComBatModel", "ComBatResult", "combat", "fit_combat"]

logger = logging.getLogger(__name__)

_CONV = 1e-4  # the reference implementation's convergence threshold for the parametric EB iteration


@dataclass(frozen=True)
class ComBatModel:
    """Estimated ComBat parameters; :meth:`apply` harmonises subjects of these batches.

    Per feature: ``grand_mean`` (alpha), ``var_pooled`` (sigma^2), ``covariate_effects``
    (design column x feature, beta). Per batch x feature: ``gamma_hat``/``delta_hat`` (location
    and scale estimates) and ``gamma_star``/``delta_star`` (after empirical Bayes; what is applied).
    Per batch: ``n_per_batch`` and the priors ``gamma_bar``, ``tau2``, ``a_prior``, ``b_prior``.
    ``unchanged`` lists features with zero pooled variance, passed through as they are.

    >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
    >>> batch = pd.Series(["A", "A", "A", "B", "B", "B"])
    >>> model = fit_combat(data, batch, eb=False)
    >>> model.features, model.batches, model.n_per_batch
    (('f1', 'f2'), ('A', 'B'), {'A': 3, 'B': 3})
    """

    features: tuple[str, ...]
    batches: tuple[Hashable, ...]
    n_per_batch: dict[Hashable, int]
    grand_mean: pd.Series
    var_pooled: pd.Series
    covariate_effects: pd.DataFrame
    gamma_hat: pd.DataFrame
    delta_hat: pd.DataFrame
    gamma_star: pd.DataFrame
    delta_star: pd.DataFrame
    gamma_bar: pd.Series
    tau2: pd.Series
    a_prior: pd.Series
    b_prior: pd.Series
    parametric: bool
    eb: bool
    mean_only: bool
    ref_batch: Hashable | None
    design: Design | None = field(default=None, repr=False)
    iterations: dict[Hashable, int] = field(default_factory=dict)
    unchanged: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        """One line naming the variant, e.g. ``ComBat, parametric empirical Bayes, location and scale``.

        >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
        >>> batch = pd.Series(["A", "A", "A", "B", "B", "B"])
        >>> model = fit_combat(data, batch, eb=False)
        >>> model.method
        'ComBat (Johnson 2007, Fortin 2017), no empirical Bayes (per-feature location/scale), location and scale'
        """
        if not self.eb:
            how = "no empirical Bayes (per-feature location/scale)"
        else:
            how = ("parametric" if self.parametric else "non-parametric") + " empirical Bayes"
        what = "location only" if self.mean_only else "location and scale"
        ref = f", reference batch {self.ref_batch!r}" if self.ref_batch is not None else ""
        return f"ComBat (Johnson 2007, Fortin 2017), {how}, {what}{ref}"

    def settings(self) -> dict[str, Any]:
        """The settings and sample sizes, for provenance (JSON-serialisable).

        >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
        >>> batch = pd.Series(["A", "A", "A", "B", "B", "B"])
        >>> model = fit_combat(data, batch, eb=False)
        >>> model.settings()["n_per_batch"], model.settings()["eb"]
        ({'A': 3, 'B': 3}, False)
        """
        return {
            "method": self.method,
            "parametric": self.parametric,
            "eb": self.eb,
            "mean_only": self.mean_only,
            "ref_batch": None if self.ref_batch is None else str(self.ref_batch),
            "covariates": [] if self.design is None else self.design.term_names,
            "covariate_coding": "" if self.design is None else self.design.describe(),
            "n_per_batch": {str(k): int(v) for k, v in self.n_per_batch.items()},
            "n_features": len(self.features),
            "unchanged_features": list(self.unchanged),
            "eb_iterations": {str(k): int(v) for k, v in self.iterations.items()},
        }

    def batch_parameters(self) -> pd.DataFrame:
        """Long table of the estimated batch parameters: batch, feature, gamma_hat, delta_hat, gamma_star, delta_star.

        >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
        >>> batch = pd.Series(["A", "A", "A", "B", "B", "B"])
        >>> model = fit_combat(data, batch, eb=False)
        >>> model.batch_parameters().shape   # 2 batches x 2 features
        (4, 6)
        """
        parts = {
            name: getattr(self, name).stack().rename(name)
            for name in ("gamma_hat", "delta_hat", "gamma_star", "delta_star")
        }
        frame = pd.concat(parts.values(), axis=1).reset_index()
        return frame.rename(columns={frame.columns[0]: "batch", frame.columns[1]: "feature"})

    def apply(
        self, data: pd.DataFrame, batch: pd.Series, *, covariates: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Harmonise ``data`` (subjects x features) of known batches with these parameters.

        ``data`` must hold every fitted feature (other columns are ignored; the result has the
        fitted features in fitted order); ``covariates`` the fitted covariates for the same
        subjects, coded with the fitted levels.

        :raises HarmonisationError: an unknown batch, a missing value, a missing feature or covariate.

        >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
        >>> batch = pd.Series(["A", "A", "A", "B", "B", "B"])
        >>> model = fit_combat(data, batch, eb=False)
        >>> model.apply(data.iloc[:2], batch.iloc[:2]).round(3).values.tolist()   # as combat() harmonised them
        [[3.684, 5.633], [4.5, 2.367]]
        """
        missing_features = [f for f in self.features if f not in data.columns]
        if missing_features:
            raise HarmonisationError(
                f"ComBat apply: features {missing_features[:5]} were fitted but are not in the table"
            )
        x = _matrix(data[list(self.features)])
        labels = _batch_labels(batch, data.index)
        unknown = sorted({str(b) for b in labels} - {str(b) for b in self.batches})
        if unknown:
            raise HarmonisationError(
                f"ComBat apply: batch {unknown[0]!r} was not among the fitted batches {[str(b) for b in self.batches]}"
            )
        codes = np.array([[str(b) for b in self.batches].index(str(v)) for v in labels])
        stand = np.broadcast_to(self.grand_mean.to_numpy(), x.shape).copy()
        if self.design is not None and self.design.terms:
            if covariates is None:
                raise HarmonisationError(
                    f"ComBat apply: the model was fitted with covariates {self.design.term_names}; pass them"
                )
            try:
                coded = self.design.encode(covariates.reindex(data.index))
            except DesignError as err:
                raise HarmonisationError(f"ComBat apply: {err}") from err
            if len(coded) != len(data):
                lost = data.index.difference(coded.index)
                raise HarmonisationError(f"ComBat apply: subject {lost[0]!r} has a missing covariate")
            stand += coded.to_numpy() @ self.covariate_effects.to_numpy()
        sd = np.sqrt(self.var_pooled.to_numpy())
        gamma = self.gamma_star.to_numpy()[codes]
        delta = self.delta_star.to_numpy()[codes]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (x - stand) / sd
            out = (s - gamma) / np.sqrt(delta) * sd + stand
        keep = [self.features.index(f) for f in self.unchanged]
        out[:, keep] = x[:, keep]
        return pd.DataFrame(out, index=data.index, columns=list(self.features))


@dataclass(frozen=True)
class ComBatResult:
    """The harmonised table (subjects x features, same order as the input) and the fitted model.

    >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
    >>> result = combat(data, pd.Series(["A", "A", "A", "B", "B", "B"]), eb=False)
    >>> result.data.shape, result.model.n_per_batch
    ((6, 2), {'A': 3, 'B': 3})
    """

    data: pd.DataFrame
    model: ComBatModel


def _matrix(data: pd.DataFrame) -> np.ndarray:
    try:
        x = data.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as err:
        bad = next(c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c].dtype))
        raise HarmonisationError(f"ComBat: feature {bad!r} is not numeric") from err
    bad = ~np.isfinite(x)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise HarmonisationError(
            f"ComBat: feature {data.columns[j]!r} is missing for subject {data.index[i]!r} "
            f"({int(bad.sum())} missing values in all); ComBat needs complete data (drop or impute them first)"
        )
    return x


def _batch_labels(batch: pd.Series | Iterable[Hashable], index: pd.Index) -> pd.Series:
    """One batch label per subject of ``index``: by subject id when ``batch`` is a Series that
    covers them, else by position."""
    if isinstance(batch, pd.Series) and (
        batch.index.equals(index) or (batch.index.is_unique and index.isin(batch.index).all())
    ):
        values = batch.reindex(index).to_numpy(dtype=object)
    else:
        values = np.asarray(list(batch), dtype=object)
        if len(values) != len(index):
            raise HarmonisationError(
                f"ComBat: {len(values)} batch labels for {len(index)} subjects (give one per subject)"
            )
    aligned = pd.Series(values, index=index, name=getattr(batch, "name", None))
    missing = missing_mask(aligned)
    if missing.any():
        raise HarmonisationError(
            f"ComBat: subject {aligned.index[missing.to_numpy()][0]!r} has no batch ({int(missing.sum())} subjects); drop them first"
        )
    return aligned


def _sorted_levels(labels: pd.Series) -> list[Hashable]:
    values = list(dict.fromkeys(labels.tolist()))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _aprior(delta_hat: np.ndarray) -> float:
    m = delta_hat.mean()
    s2 = delta_hat.var(ddof=1)
    return (2.0 * s2 + m**2) / s2 if s2 > 0 else np.nan


def _bprior(delta_hat: np.ndarray) -> float:
    m = delta_hat.mean()
    s2 = delta_hat.var(ddof=1)
    return (m * s2 + m**3) / s2 if s2 > 0 else np.nan


def _postmean(
    g_hat: np.ndarray, g_bar: float, n: float | np.ndarray, d_star: np.ndarray | float, t2: float
) -> np.ndarray:
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def _postvar(sum2: np.ndarray, n: float, a: float, b: float) -> np.ndarray:
    return (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)


def _it_sol(
    sdat: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray, g_bar: float, t2: float, a: float, b: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Parametric EB fixed point; ``sdat`` is subjects x features of one batch (reference ``it.sol``)."""
    n = sdat.shape[0]
    g_old, d_old = g_hat.copy(), d_hat.copy()
    change, count = 1.0, 0
    while change > _CONV:
        g_new = _postmean(g_hat, g_bar, n, d_old, t2)
        sum2 = ((sdat - g_new[None, :]) ** 2).sum(axis=0)
        d_new = _postvar(sum2, n, a, b)
        # the reference's rule: signed relative change, maximum over all features
        with np.errstate(divide="ignore", invalid="ignore"):
            change = max(np.max(np.abs(g_new - g_old) / g_old), np.max(np.abs(d_new - d_old) / d_old))
        g_old, d_old = g_new, d_new
        count += 1
        if count > 10_000:
            raise HarmonisationError(
                "ComBat: the parametric empirical Bayes iteration did not converge in 10,000 steps"
            )
    return g_new, d_new, count


def _int_eprior(sdat: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-parametric EB (reference ``int.eprior``): for each feature, the likelihood-weighted mean
    of the other features' (gamma, delta). Computed in log space, chunked over features."""
    n, g = sdat.shape
    sx = sdat.sum(axis=0)
    sxx = (sdat**2).sum(axis=0)
    log_norm = -0.5 * n * np.log(2.0 * np.pi * d_hat)
    gamma_star = np.empty(g)
    delta_star = np.empty(g)
    step = max(1, 4_000_000 // max(g, 1))
    for start in range(0, g, step):
        rows = np.arange(start, min(g, start + step))
        # sum over subjects of (x_i - g_hat_k)^2 for feature i (rows) and every other feature k
        sum2 = sxx[rows, None] - 2.0 * sx[rows, None] * g_hat[None, :] + n * g_hat[None, :] ** 2
        log_lh = log_norm[None, :] - sum2 / (2.0 * d_hat[None, :])
        log_lh[np.arange(len(rows)), rows] = -np.inf
        w = np.exp(log_lh - log_lh.max(axis=1, keepdims=True))
        w_sum = w.sum(axis=1)
        gamma_star[rows] = (w @ g_hat) / w_sum
        delta_star[rows] = (w @ d_hat) / w_sum
    return gamma_star, delta_star


def fit_combat(
    data: pd.DataFrame,
    batch: pd.Series,
    *,
    covariates: pd.DataFrame | None = None,
    categorical: Iterable[Hashable] = (),
    parametric: bool = True,
    eb: bool = True,
    mean_only: bool = False,
    ref_batch: Hashable | None = None,
) -> ComBatModel:
    """Estimate ComBat parameters on ``data`` (subjects x features, complete numbers).

    ``batch``: one label per subject (a Series indexed like ``data``, or in the same order);
    ``covariates``: biological variables to keep (subjects x variables, any type; ``categorical``
    forces columns to categories); ``ref_batch``: a batch label left unchanged, the others mapped
    onto it. See the module docstring for the model.

    :raises HarmonisationError: a batch with one subject, a covariate confounded with the batch,
        a missing value, fewer than two batches, an unknown ``ref_batch``.

    >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
    >>> batch = pd.Series(["A", "A", "A", "B", "B", "B"])
    >>> model = fit_combat(data, batch, eb=False)
    >>> model.grand_mean.round(3).tolist()
    [4.5, 4.0]
    """
    if data.columns.has_duplicates:
        raise HarmonisationError(
            f"ComBat: feature names repeat ({data.columns[data.columns.duplicated()].tolist()[:5]})"
        )
    x = _matrix(data)
    labels = _batch_labels(batch, data.index)
    batch_name = str(batch.name) if getattr(batch, "name", None) is not None else "batch"
    levels = _sorted_levels(labels)
    counts = {lvl: int((labels == lvl).sum()) for lvl in levels}
    if len(levels) < 2:
        raise HarmonisationError(f"ComBat: {batch_name!r} has one batch ({levels[:1]}); nothing to harmonise")
    singles = [str(lvl) for lvl, c in counts.items() if c < 2]
    if singles:
        raise HarmonisationError(
            f"ComBat: batch {singles[0]!r} of {batch_name!r} has one subject; every batch needs at least two "
            "(drop the subject or merge the batch with another)"
        )
    ref: int | None = None
    if ref_batch is not None:
        matches = [i for i, lvl in enumerate(levels) if str(lvl) == str(ref_batch)]
        if not matches:
            raise HarmonisationError(
                f"ComBat: reference batch {ref_batch!r} is not one of {[str(v) for v in levels]}"
            )
        ref = matches[0]
        ref_batch = levels[ref]
    n, n_feat = x.shape
    codes = np.array([levels.index(v) for v in labels])
    batch_design = np.zeros((n, len(levels)))
    batch_design[np.arange(n), codes] = 1.0
    design: Design | None = None
    mod = np.zeros((n, 0))
    if covariates is not None and len(covariates.columns):
        design = design_matrix(covariates, categorical=categorical, index=data.index)
        if design.dropped:
            raise HarmonisationError(
                f"ComBat: subject {design.dropped[0]!r} has a missing covariate ({len(design.dropped)} subjects); "
                "ComBat needs every covariate for every subject (drop them first)"
            )
        try:
            check_not_confounded(design, labels.rename(batch_name), batch_name=batch_name)
        except DesignError as err:
            raise HarmonisationError(f"ComBat: {err}") from err
        mod = design.matrix.to_numpy(dtype="float64")
    if ref is not None:
        batch_design[:, ref] = 1.0
    full = np.hstack([batch_design, mod])
    nb = len(levels)

    b_hat = np.linalg.solve(full.T @ full, full.T @ x)
    if ref is not None:
        grand_mean = b_hat[ref]
        ref_rows = codes == ref
        resid = x[ref_rows] - full[ref_rows] @ b_hat
        var_pooled = (resid**2).mean(axis=0)
    else:
        weights = np.array([counts[lvl] for lvl in levels]) / n
        grand_mean = weights @ b_hat[:nb]
        var_pooled = ((x - full @ b_hat) ** 2).mean(axis=0)
    mod_effects = b_hat[nb:]
    stand_mean = grand_mean[None, :] + mod @ mod_effects

    constant = ~(var_pooled > 0)
    unchanged = tuple(str(data.columns[i]) for i in np.flatnonzero(constant))
    if unchanged:
        logger.warning(
            "ComBat: %d features have zero pooled variance and are left unchanged (%s...)",
            len(unchanged),
            unchanged[:3],
        )
    live = ~constant
    s = np.zeros_like(x)
    s[:, live] = (x[:, live] - stand_mean[:, live]) / np.sqrt(var_pooled[live])

    gamma_hat = np.linalg.solve(batch_design.T @ batch_design, batch_design.T @ s)
    delta_hat = np.ones((nb, n_feat))
    if not mean_only:
        for i in range(nb):
            delta_hat[i] = s[codes == i].var(axis=0, ddof=1)
    zero_scale = delta_hat[:, live] == 0
    if zero_scale.any():
        logger.warning(
            "ComBat: %d batch x feature scales are zero (constant within a batch); set to 1",
            int(zero_scale.sum()),
        )
        delta_hat[:, live] = np.where(zero_scale, 1.0, delta_hat[:, live])

    g_live, d_live = gamma_hat[:, live], delta_hat[:, live]
    gamma_bar = g_live.mean(axis=1)
    tau2 = g_live.var(axis=1, ddof=1) if g_live.shape[1] > 1 else np.full(nb, np.nan)
    a_prior = np.full(nb, np.nan)
    b_prior = np.full(nb, np.nan)
    if not mean_only and d_live.shape[1] > 1:
        a_prior = np.array([_aprior(d_live[i]) for i in range(nb)])
        b_prior = np.array([_bprior(d_live[i]) for i in range(nb)])
    gamma_star = gamma_hat.copy()
    delta_star = delta_hat.copy()
    iterations: dict[Hashable, int] = {}
    if eb:
        if g_live.shape[1] < 2:
            raise HarmonisationError(
                "ComBat: empirical Bayes needs at least two features with variance (or use eb=False)"
            )
        for i, lvl in enumerate(levels):
            if i == ref:
                continue  # the reference batch is not adjusted (its estimates are set to 0 and 1 below)
            rows = codes == i
            if parametric:
                if mean_only:
                    gamma_star[i, live] = _postmean(g_live[i], gamma_bar[i], 1.0, 1.0, tau2[i])
                    delta_star[i, live] = 1.0
                else:
                    if not (np.isfinite(a_prior[i]) and np.isfinite(b_prior[i])):
                        raise HarmonisationError(
                            f"ComBat: the scale estimates of batch {str(lvl)!r} are the same for every feature, "
                            "so the empirical Bayes prior is undefined (use eb=False or parametric=False)"
                        )
                    g, d, count = _it_sol(
                        s[np.ix_(rows, live)],
                        g_live[i],
                        d_live[i],
                        gamma_bar[i],
                        tau2[i],
                        a_prior[i],
                        b_prior[i],
                    )
                    gamma_star[i, live], delta_star[i, live] = g, d
                    iterations[lvl] = count
            else:
                g, d = _int_eprior(s[np.ix_(rows, live)], g_live[i], d_live[i])
                gamma_star[i, live], delta_star[i, live] = g, d
    if ref is not None:
        gamma_star[ref] = 0.0
        delta_star[ref] = 1.0
    gamma_star[:, constant] = 0.0
    delta_star[:, constant] = 1.0

    features = [str(c) for c in data.columns]
    names = [lvl for lvl in levels]
    frame = lambda a: pd.DataFrame(a, index=pd.Index(names, name="batch"), columns=features)
    per_batch = lambda a: pd.Series(a, index=pd.Index(names, name="batch"))
    model = ComBatModel(
        features=tuple(features),
        batches=tuple(levels),
        n_per_batch=counts,
        grand_mean=pd.Series(grand_mean, index=features, name="grand_mean"),
        var_pooled=pd.Series(var_pooled, index=features, name="var_pooled"),
        covariate_effects=pd.DataFrame(
            mod_effects, index=[] if design is None else design.columns, columns=features
        ),
        gamma_hat=frame(gamma_hat),
        delta_hat=frame(delta_hat),
        gamma_star=frame(gamma_star),
        delta_star=frame(delta_star),
        gamma_bar=per_batch(gamma_bar),
        tau2=per_batch(tau2),
        a_prior=per_batch(a_prior),
        b_prior=per_batch(b_prior),
        parametric=parametric,
        eb=eb,
        mean_only=mean_only,
        ref_batch=ref_batch,
        design=design,
        iterations=iterations,
        unchanged=unchanged,
    )
    logger.info("%s: %d subjects x %d features, batches %s", model.method, n, n_feat, counts)
    return model


def combat(
    data: pd.DataFrame,
    batch: pd.Series,
    *,
    covariates: pd.DataFrame | None = None,
    categorical: Iterable[Hashable] = (),
    parametric: bool = True,
    eb: bool = True,
    mean_only: bool = False,
    ref_batch: Hashable | None = None,
) -> ComBatResult:
    """Fit ComBat on ``data`` and harmonise it (see :func:`fit_combat` for the arguments).

    The reference batch's subjects, when there is one, are returned exactly as they came.

    >>> data = pd.DataFrame({"f1": [1.0, 2.0, 3.0, 6.0, 8.0, 7.0], "f2": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0]})
    >>> result = combat(data, pd.Series(["A", "A", "A", "B", "B", "B"]), eb=False, ref_batch="A")
    >>> result.data.iloc[:3].equals(data.iloc[:3])   # the reference batch is returned as it came
    True
    """
    model = fit_combat(
        data,
        batch,
        covariates=covariates,
        categorical=categorical,
        parametric=parametric,
        eb=eb,
        mean_only=mean_only,
        ref_batch=ref_batch,
    )
    labels = _batch_labels(batch, data.index)
    out = model.apply(data, labels, covariates=covariates)
    out.columns = data.columns
    if model.ref_batch is not None:
        rows = (labels.map(str) == str(model.ref_batch)).to_numpy()
        out.iloc[rows] = data.iloc[rows].to_numpy(dtype="float64")
    return ComBatResult(out, model)
