"""Missing values and typed subject variables: the one list of "no value" tokens igkg uses.

Loaders (clinical tables, matrices, long feature tables, marker statuses) and the statistics
(designs, ComBat) all read "no value" through :data:`MISSING_TOKENS`, compared after
collapsing whitespace and case-folding (:func:`is_missing`). A *subject variable* is one
column of a clinical or covariate table, typed: numbers become ``float64``; anything else a
categorical with its levels sorted; a missing token is NaN, never a level.

>>> is_missing(" Not  Collected "), is_missing("[Not Available]"), is_missing("Former")
(True, True, False)
>>> subject_variable(pd.Series(["Stanford", "VA", "N/A"], name="Patient affiliation")).cat.categories.tolist()
['Stanford', 'VA']
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from kg.core.errors import IgkgError

__all__ = ["MISSING_TOKENS", "VariableError", "is_missing", "missing_mask", "normalise_token", "subject_variable"]

MISSING_TOKENS: frozenset[str] = frozenset(
    {
        "",
        "-",
        "?",
        "#n/a",
        "missing",
        "n/a",
        "na",
        "nan",
        "none",
        "null",
        "not applicable",
        "not assessed",
        "not available",
        "not collected",
        "not recorded",
        "not recorded in database",
        "not reported",
        "unknown",
        "[completed]",
        "[discrepancy]",
        "[not applicable]",
        "[not available]",
        "[not evaluated]",
        "[not reported]",
        "[unknown]",
    }
)
"""Values that mean *missing*, lower-cased; compare with :func:`normalise_token` (or :func:`is_missing`)."""


class VariableError(IgkgError, ValueError):
    """A subject variable cannot be typed as asked (e.g. a value that is not a number).

    >>> issubclass(VariableError, ValueError)
    True
    """


def normalise_token(value: object) -> str:
    """``value`` as compared with :data:`MISSING_TOKENS`: whitespace collapsed, case-folded.

    >>> normalise_token("  Not   Collected ")
    'not collected'
    """
    return " ".join(str(value).split()).casefold()


def is_missing(value: object) -> bool:
    """True for ``None``, NaN and every missing token (``N/A``, ``Not Collected``, ``Unknown``, ...).

    >>> is_missing(None), is_missing(float("nan")), is_missing("Unknown"), is_missing("0")
    (True, True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return normalise_token(value) in MISSING_TOKENS


def missing_mask(values: pd.Series) -> pd.Series:
    """True where ``values`` is NaN/None or one of :data:`MISSING_TOKENS` (once per distinct value).

    >>> missing_mask(pd.Series(["Mutant", " n/a ", None, "Not Collected", "0"])).tolist()
    [False, True, True, True, False]
    """
    na = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(na, index=values.index, name=values.name)
    codes, uniques = pd.factorize(values, sort=False)
    missing_u = np.array([normalise_token(u) in MISSING_TOKENS for u in uniques], dtype=bool)
    text = np.where(codes >= 0, missing_u[np.where(codes >= 0, codes, 0)] if len(uniques) else True, True)
    return pd.Series(text.astype(bool) | na, index=values.index, name=values.name)


def _number(text: str) -> float:
    """``text`` as a finite float, or NaN."""
    try:
        value = float(text)
    except ValueError:
        return np.nan
    return value if np.isfinite(value) else np.nan


def subject_variable(values: pd.Series, *, categorical: bool | None = None) -> pd.Series:
    """Type one subject variable: float64 if every present value is a number, else categorical.

    Missing tokens become NaN first. ``categorical=True`` forces categories (e.g. numeric
    site codes), ``False`` forces numbers (:class:`VariableError` names a value that is not).
    Categories are sorted (numerically when they are numbers); booleans are categorical.
    The work is done once per distinct value.

    >>> subject_variable(pd.Series(["70", "Unknown", "61.5"], name="Age")).tolist()
    [70.0, nan, 61.5]
    >>> subject_variable(pd.Series(["VA", "Stanford", ""])).cat.categories.tolist()
    ['Stanford', 'VA']
    """
    dtype = values.dtype
    boolean = pd.api.types.is_bool_dtype(dtype)
    if pd.api.types.is_numeric_dtype(dtype) and not boolean and not categorical:
        out = values.astype("float64")
        return out.where(np.isfinite(out.to_numpy()))
    codes, uniques = pd.factorize(values, sort=False)
    unique_values = list(uniques)
    texts = [str(u).strip() for u in unique_values]
    missing_u = np.array([normalise_token(t) in MISSING_TOKENS for t in texts], dtype=bool)
    present_u = ~missing_u
    numbers_u = np.array([np.nan if boolean else _number(t) for t in texts], dtype="float64")
    numeric = not boolean and bool(np.isfinite(numbers_u[present_u]).all())
    if categorical is False and not numeric:
        bad = next(t for t, ok, num in zip(texts, present_u, numbers_u) if ok and not np.isfinite(num))
        raise VariableError(
            f"variable {values.name!r}: value {bad!r} is not a number (make it numeric or categorical)"
        )
    index_of_unique = np.where(codes >= 0, codes, 0)
    is_missing = (codes < 0) | (missing_u[index_of_unique] if len(texts) else True)
    if numeric and not categorical:
        out_values = np.where(is_missing, np.nan, numbers_u[index_of_unique] if len(texts) else np.nan)
        return pd.Series(out_values, index=values.index, name=values.name, dtype="float64")
    if numeric:
        present = numbers_u[present_u]
        integral = bool((present == np.round(present)).all())
        labels_u: list[Hashable] = [int(v) if integral and np.isfinite(v) else v for v in numbers_u.tolist()]
    elif boolean:
        labels_u = [bool(u) for u in unique_values]
    else:
        labels_u = list(texts)
    levels = sorted({labels_u[i] for i in np.flatnonzero(present_u)})
    position = {level: k for k, level in enumerate(levels)}
    level_code_u = np.array(
        [position.get(label, -1) if ok else -1 for label, ok in zip(labels_u, present_u)], dtype=int
    )
    cat_codes = np.where(is_missing, -1, level_code_u[index_of_unique] if len(texts) else -1)
    categories = pd.Categorical.from_codes(
        cat_codes, categories=pd.Index(levels, dtype=object) if not levels else levels
    )
    return pd.Series(categories, index=values.index, name=values.name)
