"""Subject variables and design matrices for covariate-adjusted models.

A *subject variable* is one column of a clinical or covariate table, typed: numbers become
``float64``; anything else a categorical with its levels sorted. The values in
:data:`kg.core.values.MISSING_TOKENS` (the one list loaders use too) (``N/A``, ``Not Collected``, ``Unknown``, empty, NaN, ..., compared
case-insensitively after stripping) are missing, never a level.

A *design* codes covariates for a linear model: numeric terms as they are, categorical terms
as treatment-coded dummies against the first sorted level (column ``Term[T.level]``, as
patsy and statsmodels formulas name them). A subject with a missing covariate is dropped
(``Design.dropped`` lists them); the models drop further subjects per test when the feature
or target is missing there. No model, test or multiple-testing correction is computed here.

A covariate is *confounded with a batch* when its columns lie in the span of the batch
indicators (together with the other covariates): a batch-effect model cannot then tell the
two apart (:func:`confounded_terms`, :func:`check_not_confounded`).

>>> covariates = pd.DataFrame(
...     {"Age": ["61", "N/A", "70", "55"], "Gender": ["Male", "Female", "Female", "Unknown"]},
...     index=["s1", "s2", "s3", "s4"],
... )
>>> design = design_matrix(covariates)
>>> design.matrix
     Age  Gender[T.Male]
s1  61.0             1.0
s3  70.0             0.0
>>> design.dropped
('s2', 's4')
>>> design.describe()
'Age (numeric) + Gender (categorical; reference Female)'
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kg.core.values import MISSING_TOKENS, VariableError, missing_mask
from kg.core.values import subject_variable as _core_subject_variable

from .errors import DesignError

__all__ = [
    "MISSING_TOKENS",
    "Design",
    "Term",
    "binary_marker",
    "check_not_confounded",
    "confounded_terms",
    "design_matrix",
    "missing_mask",
    "subject_variable",
    "subject_variables",
]

logger = logging.getLogger(__name__)

POSITIVE_LEVELS: frozenset[str] = frozenset(
    {
        "1",
        "1.0",
        "true",
        "yes",
        "y",
        "positive",
        "pos",
        "mutant",
        "mutated",
        "mutation",
        "present",
        "translocated",
        "amplified",
        "altered",
        "case",
    }
)
"""Level names taken as the positive class of a two-level marker when none is named."""


def subject_variable(values: pd.Series, *, categorical: bool | None = None) -> pd.Series:
    """Type one subject variable (:func:`kg.core.values.subject_variable`; :class:`DesignError` when it cannot).

    >>> subject_variable(pd.Series(["70", "Unknown", "61.5"], name="Age")).tolist()
    [70.0, nan, 61.5]
    """
    try:
        return _core_subject_variable(values, categorical=categorical)
    except VariableError as exc:
        raise DesignError(str(exc)) from None


def subject_variables(frame: pd.DataFrame, *, categorical: Iterable[Hashable] = ()) -> pd.DataFrame:
    """Type every column of ``frame`` with :func:`subject_variable` (``categorical`` forces some).

    >>> typed = subject_variables(pd.DataFrame({"Grade": ["1", "2", "NA"], "Age": ["50", "61", ""]}), categorical=["Grade"])
    >>> typed.dtypes.astype(str).tolist(), typed["Age"].tolist()[:2]
    (['category', 'float64'], [50.0, 61.0])
    """
    forced = set(categorical)
    unknown = forced - set(frame.columns)
    if unknown:
        raise DesignError(
            f"categorical variables {sorted(map(str, unknown))} are not columns of the table ({list(frame.columns)})"
        )
    return pd.DataFrame(
        {c: subject_variable(frame[c], categorical=True if c in forced else None) for c in frame.columns},
        index=frame.index,
    )


def binary_marker(values: pd.Series, *, positive: Hashable | None = None) -> pd.Series:
    """A two-level marker as float 0/1 (NaN where missing); ``positive`` names the level coded 1.

    Without ``positive``: numbers must already be 0/1; text levels must include exactly one of
    :data:`POSITIVE_LEVELS` (``Mutant``, ``Yes``, ``Positive``, ...). More than two levels is an error.

    >>> binary_marker(pd.Series(["Mutant", "Wildtype", "Unknown", "Mutant"], name="EGFR")).tolist()
    [1.0, 0.0, nan, 1.0]
    """
    variable = subject_variable(values, categorical=None)
    name = values.name
    if variable.dtype == "float64":
        levels = sorted(set(variable.dropna().tolist()))
        if positive is None:
            if not set(levels) <= {0.0, 1.0}:
                raise DesignError(
                    f"marker {name!r} has numeric levels {levels[:5]}; a binary marker is 0/1 (or name the positive level)"
                )
            return variable
        if len(levels) > 2 or float(positive) not in levels:  # type: ignore[arg-type]
            raise DesignError(
                f"marker {name!r}: positive level {positive!r} is not one of its levels {levels[:5]} or it has more than two"
            )
        return (variable == float(positive)).astype("float64").where(variable.notna())  # type: ignore[arg-type]
    levels = list(variable.cat.categories)
    if len(levels) > 2:
        raise DesignError(
            f"marker {name!r} has {len(levels)} levels {levels[:6]}; a binary marker has two (mark the others missing)"
        )
    if positive is None:
        hits = [lvl for lvl in levels if str(lvl).strip().casefold() in POSITIVE_LEVELS]
        if len(hits) != 1:
            raise DesignError(f"marker {name!r} has levels {levels}; name the positive level (positive=...)")
        positive = hits[0]
    if str(positive) not in {str(lvl) for lvl in levels}:
        raise DesignError(f"marker {name!r}: positive level {positive!r} is not one of its levels {levels}")
    coded = (variable.astype(object).map(str) == str(positive)).astype("float64")
    return coded.where(variable.notna()).rename(name)


@dataclass(frozen=True)
class Term:
    """One covariate in a design: numeric (one column) or categorical (one dummy per non-reference level).

    >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
    ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
    >>> d.terms[0]
    Term(name='Sex', kind='categorical', columns=('Sex[T.M]',), levels=('F', 'M'), reference='F')
    """

    name: str
    kind: Literal["numeric", "categorical"]
    columns: tuple[str, ...]
    levels: tuple[Hashable, ...] = ()
    reference: Hashable | None = None

    def describe(self) -> str:
        """``Age (numeric)`` or ``Gender (categorical; reference Female)``.

        >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
        ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
        >>> [term.describe() for term in d.terms]
        ['Sex (categorical; reference F)', 'Age (numeric)']
        """
        if self.kind == "numeric":
            return f"{self.name} (numeric)"
        if not self.columns:
            return f"{self.name} (categorical; one level {self.reference}, no column)"
        return f"{self.name} (categorical; reference {self.reference})"


@dataclass(frozen=True)
class Design:
    """Coded covariates: ``matrix`` (subjects with every covariate present x design columns).

    ``intercept`` says whether ``matrix`` starts with a ``const`` column; ``dropped`` lists the
    subjects left out for a missing covariate, in input order.

    >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
    ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
    >>> d.matrix.shape, d.dropped   # s4 has no age
    ((3, 3), ('s4',))
    """

    matrix: pd.DataFrame
    terms: tuple[Term, ...]
    dropped: tuple[Hashable, ...] = ()
    intercept: bool = False

    @property
    def columns(self) -> list[str]:
        """The design columns, ``const`` first when there is an intercept.

        >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
        ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
        >>> d.columns
        ['const', 'Sex[T.M]', 'Age']
        """
        return list(self.matrix.columns)

    @property
    def term_names(self) -> list[str]:
        """The covariates, in order.

        >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
        ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
        >>> d.term_names
        ['Sex', 'Age']
        """
        return [t.name for t in self.terms]

    def describe(self) -> str:
        """The covariates and their coding, joined with ``+`` (empty string for no covariates).

        >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
        ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
        >>> d.describe()
        'Sex (categorical; reference F) + Age (numeric)'
        """
        return " + ".join(t.describe() for t in self.terms)

    def encode(self, covariates: pd.DataFrame) -> pd.DataFrame:
        """Code new subjects with this design's terms and levels (e.g. the test fold).

        Subjects with a missing covariate are left out; an unseen level is a :class:`DesignError`.

        >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
        ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
        >>> d.encode(pd.DataFrame({"Sex": ["M"], "Age": [40]}, index=["s9"])).values.tolist()
        [[1.0, 1.0, 40.0]]
        >>> d.encode(pd.DataFrame({"Sex": ["X"], "Age": [40]}, index=["s9"]))
        Traceback (most recent call last):
        ...
        kg.analysis.stats.errors.DesignError: covariate 'Sex': level 'X' of subject 's9' was not in the fitted design (levels ['F', 'M'])
        """
        missing_cols = [t.name for t in self.terms if t.name not in covariates.columns]
        if missing_cols:
            raise DesignError(
                f"covariates {missing_cols} are missing from the new table (columns {list(covariates.columns)})"
            )
        blocks: dict[str, np.ndarray] = {}
        keep = np.ones(len(covariates), dtype=bool)
        typed: dict[str, pd.Series] = {}
        for term in self.terms:
            v = subject_variable(covariates[term.name], categorical=term.kind == "categorical")
            typed[term.name] = v
            keep &= v.notna().to_numpy()
        index = covariates.index[keep]
        if self.intercept:
            blocks["const"] = np.ones(keep.sum())
        for term in self.terms:
            v = typed[term.name][keep]
            if term.kind == "numeric":
                blocks[term.columns[0]] = v.to_numpy(dtype="float64")
                continue
            known = {str(lvl) for lvl in term.levels}
            labels = v.astype(object).map(str)
            unseen = labels[~labels.isin(known)]
            if len(unseen):
                raise DesignError(
                    f"covariate {term.name!r}: level {unseen.iloc[0]!r} of subject {unseen.index[0]!r} "
                    f"was not in the fitted design (levels {list(term.levels)})"
                )
            for level, column in zip(term.levels[1:], term.columns):
                blocks[column] = (labels == str(level)).to_numpy(dtype="float64")
        return pd.DataFrame(blocks, index=index, columns=self.columns)


def design_matrix(
    covariates: pd.DataFrame | None,
    *,
    categorical: Iterable[Hashable] = (),
    intercept: bool = False,
    index: Sequence[Hashable] | pd.Index | None = None,
) -> Design:
    """Code ``covariates`` (subjects x variables) as a design; see the module docstring.

    ``index`` (optional) restricts and orders the subjects first (ids absent from
    ``covariates`` count as missing). ``covariates=None`` gives an empty design.

    :raises DesignError: a forced categorical is not a column, or a forced number is not a number.

    >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, None]},
    ...                                 index=["s1", "s2", "s3", "s4"]), intercept=True)
    >>> d.matrix.loc["s3"].tolist()
    [1.0, 1.0, 72.0]
    """
    if covariates is None:
        covariates = pd.DataFrame(index=pd.Index([]) if index is None else pd.Index(index))
    if index is not None:
        covariates = covariates.reindex(pd.Index(index))
    if covariates.columns.has_duplicates:
        raise DesignError(
            f"covariate names repeat: {covariates.columns[covariates.columns.duplicated()].tolist()}"
        )
    typed = subject_variables(covariates, categorical=categorical)
    complete = typed.notna().all(axis=1).to_numpy() if len(typed.columns) else np.ones(len(typed), dtype=bool)
    dropped = tuple(typed.index[~complete])
    if dropped:
        logger.info("design: %d of %d subjects dropped for a missing covariate", len(dropped), len(typed))
    kept = typed[complete]
    terms: list[Term] = []
    blocks: dict[str, np.ndarray] = {}
    if intercept:
        blocks["const"] = np.ones(len(kept))
    for name in typed.columns:
        v = kept[name]
        label = str(name)
        if v.dtype == "float64":
            terms.append(Term(label, "numeric", (label,)))
            blocks[label] = v.to_numpy(dtype="float64")
            continue
        levels = [lvl for lvl in typed[name].cat.categories if (v == lvl).any()]
        columns = tuple(f"{label}[T.{lvl}]" for lvl in levels[1:])
        terms.append(Term(label, "categorical", columns, tuple(levels), levels[0] if levels else None))
        for lvl, column in zip(levels[1:], columns):
            blocks[column] = (v == lvl).to_numpy(dtype="float64")
        if len(levels) < 2:
            logger.warning(
                "design: covariate %r has a single level (%s) and adds no column", label, levels[:1]
            )
    matrix = pd.DataFrame(blocks, index=kept.index)
    return Design(matrix, tuple(terms), dropped, intercept)


def _rank(matrix: np.ndarray) -> int:
    """Numerical rank of ``matrix`` after scaling its columns to unit norm."""
    if matrix.size == 0:
        return 0
    norms = np.linalg.norm(matrix, axis=0)
    scaled = matrix[:, norms > 0] / norms[norms > 0]
    if scaled.shape[1] == 0:
        return 0
    s = np.linalg.svd(scaled, compute_uv=False)
    return int((s > s[0] * max(scaled.shape) * 1e-10).sum())


def _batch_indicators(batch: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(batch, sort=True)
    out = np.zeros((len(batch), codes.max() + 1 if len(codes) else 0))
    out[np.arange(len(batch)), codes] = 1.0
    return out


def confounded_terms(design: Design, batch: pd.Series) -> list[str]:
    """Covariates of ``design`` that a batch effect cannot be told apart from.

    A term is confounded when its columns add less than their number to the rank of the
    batch indicators (e.g. every subject of one site is female); when no single term is but
    the terms jointly are, all the terms are returned. Subjects missing a batch are ignored.

    >>> d = design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"], "Age": [50, 61, 72, 58]}))
    >>> confounded_terms(d, pd.Series(["A", "A", "B", "B"]))
    ['Sex']
    """
    if not design.terms:
        return []
    b = batch.reindex(design.matrix.index)
    b = b[~missing_mask(b).to_numpy()]
    matrix = design.matrix.loc[b.index]
    indicators = _batch_indicators(b)
    base = _rank(indicators)
    confounded = []
    for term in design.terms:
        if not term.columns:
            continue
        block = matrix[list(term.columns)].to_numpy(dtype="float64")
        if _rank(np.hstack([indicators, block])) < base + _rank(block):
            confounded.append(term.name)
    if confounded:
        return confounded
    columns = [c for t in design.terms for c in t.columns]
    block = matrix[columns].to_numpy(dtype="float64")
    if columns and _rank(np.hstack([indicators, block])) < base + _rank(block):
        return [t.name for t in design.terms if t.columns]
    return []


def check_not_confounded(design: Design, batch: pd.Series, *, batch_name: str | None = None) -> None:
    """Raise :class:`DesignError` naming the covariates confounded with ``batch`` (see :func:`confounded_terms`).

    >>> check_not_confounded(design_matrix(pd.DataFrame({"Sex": ["F", "F", "M", "M"]})), pd.Series(["A", "A", "B", "B"], name="site"))
    Traceback (most recent call last):
    ...
    kg.analysis.stats.errors.DesignError: covariate 'Sex' is confounded with 'site': its values are fixed by the batch, so batch and covariate effects cannot be separated (drop the covariate or the batch)
    """
    bad = confounded_terms(design, batch)
    if bad:
        label = batch_name or (str(batch.name) if batch.name is not None else "batch")
        raise DesignError(
            f"covariate{'s' if len(bad) > 1 else ''} {', '.join(repr(b) for b in bad)} "
            f"{'are' if len(bad) > 1 else 'is'} confounded with {label!r}: its values are fixed by the batch, "
            "so batch and covariate effects cannot be separated (drop the covariate or the batch)"
        )
