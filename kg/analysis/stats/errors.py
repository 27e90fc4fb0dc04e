"""Errors of the numeric statistics kernels.

They are igkg errors (:class:`kg.core.errors.IgkgError`) and :class:`ValueError` errors.
"""

from __future__ import annotations

from kg.core.errors import IgkgError

__all__ = ["DesignError", "HarmonisationError", "StatsError"]


class StatsError(IgkgError, ValueError):
    """The inputs of a statistical analysis are unusable; the message names what and what to do.

    >>> issubclass(DesignError, StatsError) and issubclass(StatsError, ValueError) and issubclass(StatsError, IgkgError)
    True
    """


class DesignError(StatsError):
    """A covariate cannot enter a model (unknown column, unseen level, confounded with batch).

    >>> import pandas as pd
    >>> from kg.analysis.stats.design import design_matrix
    >>> design_matrix(pd.DataFrame({"Age": [50, 61]}), categorical=["Sex"])
    Traceback (most recent call last):
    ...
    kg.analysis.stats.errors.DesignError: ...
    """


class HarmonisationError(StatsError):
    """ComBat cannot run on these inputs (a batch with one subject, missing values, ...).

    >>> issubclass(HarmonisationError, StatsError)
    True
    """
