"""Errors of the numeric statistics kernels.

They subclass :class:`ValueError` only, so the kernels stay free of igkg imports; the layer
that wires them in may re-base :class:`StatsError` on igkg's ``IgkgError``.
"""

from __future__ import annotations

__all__ = ["DesignError", "HarmonisationError", "StatsError"]


class StatsError(ValueError):
    """The inputs of a statistical analysis are unusable; the message names what and what to do.

    >>> issubclass(DesignError, StatsError) and issubclass(StatsError, ValueError)
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
