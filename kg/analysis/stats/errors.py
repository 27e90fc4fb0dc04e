"""Errors of the numeric statistics kernels.

They subclass :class:`ValueError` only, so the kernels stay free of igkg imports; the layer
that wires them in may re-base :class:`StatsError` on igkg's ``IgkgError``.
"""

from __future__ import annotations

__all__ = ["DesignError", "HarmonisationError", "StatsError"]


class StatsError(ValueError):
    """The inputs of a statistical analysis are unusable; the message names what and what to do."""


class DesignError(StatsError):
    """A covariate cannot enter a model (unknown column, unseen level, confounded with batch)."""


class HarmonisationError(StatsError):
    """ComBat cannot run on these inputs (a batch with one subject, missing values, ...)."""
