"""The records of an association analysis: its inputs read from the store, and one run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["AnalysisInput", "AssociationRun"]


@dataclass
class AnalysisInput:
    """Feature and target matrices read from the store, with the IRIs and graphs behind them.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.inputs import imaging_features
    >>> features = imaging_features(kg)
    >>> features.features.shape, features.feature_iris
    ((8, 1), {'original_firstorder_Mean': 'https://w3id.org/igkg/id/feature/original_firstorder_Mean'})
    """

    features: pd.DataFrame
    targets: pd.DataFrame
    feature_iris: dict[str, str]
    target_iris: dict[str, str | None]
    graphs: list[str]
    notes: list[str]
    conflicts: pd.DataFrame | None = None


@dataclass
class AssociationRun:
    """One analysis run: its id, parameters, inputs and results (all tested pairs or the significant ones).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.run import run_analysis
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> run.parameters["method"], len(run.results)
    ('mannwhitney', 1)
    """

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
        """The results with q <= the run's q_max.

        >>> import pathlib, tempfile
        >>> from kg import KnowledgeGraph
        >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
        >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
        ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(table, kind="radiomics-csv")
        >>> from kg.analysis.associations.run import run_analysis
        >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
        >>> run.significant[["feature", "target", "q"]].values.tolist()
        [['original_firstorder_Mean', 'EGFR mutation status', 0.028...]]
        """
        return self.results[self.results["q"] <= float(self.parameters["q_max"])]  # type: ignore[arg-type]
