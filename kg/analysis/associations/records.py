"""The records of an association analysis: its inputs read from the store, and one run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["AnalysisInput", "AssociationRun"]


@dataclass
class AnalysisInput:
    """Feature and target matrices read from the store, with the IRIs and graphs behind them."""

    features: pd.DataFrame
    targets: pd.DataFrame
    feature_iris: dict[str, str]
    target_iris: dict[str, str | None]
    graphs: list[str]
    notes: list[str]
    conflicts: pd.DataFrame | None = None


@dataclass
class AssociationRun:
    """One analysis run: its id, parameters, inputs and results (all tested pairs or the significant ones)."""

    run_id: str
    parameters: dict[str, object]
    results: pd.DataFrame
    feature_iris: dict[str, str]
    target_iris: dict[str, str | None]
    used: list[str]
    notes: list[str]
    conflicts: pd.DataFrame | None = None

    @property
    def significant(self) -> pd.DataFrame:
        """The results with q <= the run's q_max."""
        return self.results[self.results["q"] <= float(self.parameters["q_max"])]  # type: ignore[arg-type]
