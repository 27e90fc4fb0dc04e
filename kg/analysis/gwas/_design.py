"""The fixed part of a linear GWAS: subjects matched to genotypes, and phenotypes residualised on covariates.

Features are grouped by their missingness pattern (phenotype observed and every covariate present); each
group has its own subjects, one QR of its covariate matrix (with intercept) and its phenotypes projected
off the covariates. Dosage blocks are then tested group by group (see ``_kernel``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["GwasDesign", "GwasError", "PhenotypeGroup", "prepare_design"]

log = logging.getLogger(__name__)


class GwasError(ValueError):
    """The inputs of a GWAS do not fit together (no shared subjects, collinear covariates, ...)."""


@dataclass(frozen=True)
class PhenotypeGroup:
    """Features sharing one set of subjects.

    ``rows`` index the design's subjects (``GwasDesign.sample_index`` order); ``q`` (n x k) is an
    orthonormal basis of [1, covariates] on those subjects; ``y`` (n x f) the phenotypes with that span
    projected out and ``yy`` their residual sums of squares; ``df = n - k - 1``.
    """

    features: tuple[str, ...]
    feature_codes: np.ndarray
    rows: np.ndarray
    zt: np.ndarray  # (f + k) x n, C order: [y, q]' so one matrix product gives y'g and q'g
    yy: np.ndarray
    n: int
    df: int

    @property
    def y(self) -> np.ndarray:
        """Residualised phenotypes, n x f."""
        return self.zt[: len(self.features)].T

    @property
    def q(self) -> np.ndarray:
        """Orthonormal basis of [1, covariates], n x k."""
        return self.zt[len(self.features):].T


@dataclass(frozen=True)
class GwasDesign:
    """Everything a dosage block needs: which genotype rows to read and the phenotype groups."""

    sample_index: np.ndarray  # rows of the genotype source's sample table, sorted
    subjects: tuple[str, ...]  # their ids
    features: tuple[str, ...]  # every feature tested, in input order (the output's categories)
    covariates: tuple[str, ...]
    groups: tuple[PhenotypeGroup, ...]
    skipped: dict[str, str] = field(default_factory=dict)  # feature -> why it is not tested

    @property
    def k(self) -> int:
        """Columns of the covariate matrix including the intercept."""
        return len(self.covariates) + 1


def _subject_keys(samples: pd.DataFrame, key: str) -> pd.Index:
    if key == "iid":
        return pd.Index(samples["iid"].astype(str), name="iid")
    if key == "fid_iid":
        return pd.MultiIndex.from_arrays([samples["fid"].astype(str), samples["iid"].astype(str)],
                                         names=["fid", "iid"])
    raise ValueError(f"key must be 'iid' or 'fid_iid', not {key!r}")


def _table_keys(table: pd.DataFrame, key: str, what: str) -> pd.DataFrame:
    table = table.copy()
    if key == "iid":
        table.index = pd.Index(table.index.astype(str), name="iid")
    else:
        if table.index.nlevels != 2:
            raise GwasError(f"{what} must be indexed by (FID, IID) when key='fid_iid'")
        table.index = pd.MultiIndex.from_arrays(
            [table.index.get_level_values(0).astype(str), table.index.get_level_values(1).astype(str)])
    duplicated = table.index.duplicated()
    if duplicated.any():
        raise GwasError(f"{what}: subject {table.index[duplicated][0]!r} appears more than once; "
                        "keep one row per subject")
    return table


def _numeric(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """Columns as float64; NA/NaN/empty are missing, any other non-number is an error."""
    out = table.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    for column in table.columns:
        raw = table[column]
        if pd.api.types.is_numeric_dtype(raw):  # numbers already: NaN is missing, nothing to check
            continue
        text = raw.astype(str).str.strip().str.upper()
        bad = out[column].isna() & raw.notna() & ~text.isin(["NA", "NAN", ""])
        if bad.any():
            raise GwasError(f"{what} column {column!r} holds a non-number ({raw[bad].iloc[0]!r}) for subject "
                            f"{raw[bad].index[0]!r}; encode categories as 0/1 columns")
    return out


def prepare_design(
    samples: pd.DataFrame,
    phenotypes: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    *,
    key: str = "iid",
    min_subjects: int | None = None,
) -> GwasDesign:
    """Match subjects and residualise phenotypes on ``[1, covariates]``, once per missingness pattern.

    ``samples`` is the genotype source's sample table (fid, iid); ``phenotypes`` (subjects x features) and
    ``covariates`` (subjects x covariates) are indexed by IID (``key="iid"``) or (FID, IID). A subject is
    used for a feature when it has genotypes, that phenotype and every covariate; a feature left with
    ``n <= k + 1`` subjects is skipped and reported in ``skipped``.

    :raises GwasError: no shared subject, duplicated subjects, non-numeric columns, collinear covariates.
    """
    subject_keys = _subject_keys(samples, key)
    if subject_keys.duplicated().any():
        first = subject_keys[subject_keys.duplicated()][0]
        raise GwasError(f"genotype sample {first!r} appears more than once for key={key!r}; "
                        "use key='fid_iid' or make the ids unique")
    pheno = _numeric(_table_keys(phenotypes, key, "phenotypes"), "phenotype")
    if pheno.shape[1] == 0:
        raise GwasError("no phenotype column to test")
    cov_names: tuple[str, ...] = ()
    if covariates is not None:
        cov = _numeric(_table_keys(covariates, key, "covariates"), "covariate")
        cov_names = tuple(str(c) for c in cov.columns)
    else:
        cov = pd.DataFrame(index=pheno.index)
    in_genotypes = np.flatnonzero(subject_keys.isin(pheno.index) & subject_keys.isin(cov.index))
    if not len(in_genotypes):
        raise GwasError(f"no subject is in the genotypes, the phenotypes and the covariates (key={key!r}); "
                        "check the id columns")
    keys = subject_keys[in_genotypes]
    y_all = pheno.reindex(keys).to_numpy(np.float64)
    c_all = cov.reindex(keys).to_numpy(np.float64)
    covariates_ok = ~np.isnan(c_all).any(axis=1) if c_all.shape[1] else np.ones(len(keys), dtype=bool)
    observed = ~np.isnan(y_all) & covariates_ok[:, None]
    k = len(cov_names) + 1
    least = max(k + 2, min_subjects or 0)
    features = tuple(str(c) for c in pheno.columns)
    skipped: dict[str, str] = {}
    patterns: dict[bytes, list[int]] = {}
    for j in range(len(features)):
        count = int(observed[:, j].sum())
        if count < least:
            skipped[features[j]] = f"{count} subjects with genotypes, phenotype and covariates (< {least})"
            continue
        patterns.setdefault(np.packbits(observed[:, j]).tobytes(), []).append(j)
    used = np.zeros(len(keys), dtype=bool)
    for members in patterns.values():
        used |= observed[:, members[0]]
    sample_index = in_genotypes[used]
    position = np.cumsum(used) - 1  # row of each kept subject in the design
    groups = []
    for members in patterns.values():
        mask = observed[:, members[0]]
        rows = position[mask]
        design = np.column_stack([np.ones(int(mask.sum())), c_all[mask]])
        q, r = np.linalg.qr(design)
        diag = np.abs(np.diag(r))
        if diag.min() <= 1e-10 * max(diag.max(), 1.0):
            names = ", ".join(features[j] for j in members[:3])
            raise GwasError(f"covariates {', '.join(cov_names) or '(intercept only)'} are collinear on the "
                            f"{int(mask.sum())} subjects of {names}: drop a constant or duplicated covariate")
        y = y_all[mask][:, members]
        y = y - q @ (q.T @ y)
        groups.append(PhenotypeGroup(
            features=tuple(features[j] for j in members), feature_codes=np.asarray(members, dtype=np.int32),
            rows=rows.astype(np.intp), zt=np.ascontiguousarray(np.hstack([y, q]).T),
            yy=np.einsum("ij,ij->j", y, y), n=int(mask.sum()), df=int(mask.sum()) - k - 1))
    subjects = tuple("_".join(x) if isinstance(x, tuple) else str(x) for x in subject_keys[sample_index])
    design = GwasDesign(sample_index=sample_index, subjects=subjects, features=features, covariates=cov_names,
                        groups=tuple(groups), skipped=skipped)
    log.info("GWAS design: %d subjects, %d features in %d missingness patterns, %d covariates, %d skipped",
             len(sample_index), len(features) - len(skipped), len(groups), len(cov_names), len(skipped))
    return design
