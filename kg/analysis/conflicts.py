"""Disagreements between sources: subjects whose marker statuses differ from graph to graph.

Every source states a marker status in its own named graph (``model.marker_status`` keys
the node by source), so two sources that disagree both stay in the store. This module
finds those disagreements so that they are reported (by ``igkg associate`` and the load
report) instead of being resolved silently.

>>> from kg import KnowledgeGraph
>>> marker_conflicts(KnowledgeGraph(None)).empty
True
"""

from __future__ import annotations

import pandas as pd

from kg.store import KnowledgeGraph
from loaders import marker_value

__all__ = ["MARKER_STATUS_QUERY", "marker_conflicts", "marker_statuses", "note_conflicts"]

MARKER_STATUS_QUERY = """
SELECT ?subject ?subject_id ?marker ?marker_label ?gene ?status ?value ?graph WHERE {
  GRAPH ?graph {
    ?ms a igkg:MarkerStatus ; igkg:subject ?subject ; igkg:marker ?marker ; igkg:status ?status .
    OPTIONAL { ?ms igkg:value ?value }
  }
  OPTIONAL { ?marker rdfs:label ?marker_label }
  OPTIONAL { ?marker igkg:gene ?gene }
  OPTIONAL { ?subject igkg:identifier ?subject_id }
}"""
"""Every marker status with its subject, marker and the named graph that states it."""


def marker_statuses(kg: KnowledgeGraph) -> pd.DataFrame:
    """All marker statuses, one row per (status node, graph), with a numeric ``binary`` column.

    ``binary`` is the stated ``igkg:value`` or, failing that, the status text read by
    ``model.marker_value`` (1 positive, 0 negative, NaN unknown or not binary).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Mutant,1.5\\nP2,Wildtype,2.5\\n")
    >>> _ = (folder / "b.csv").write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Wildtype,1.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "a.csv", kind="radiomics-csv")
    >>> report = kg.load(folder / "b.csv", kind="radiomics-csv")
    >>> sorted(marker_statuses(kg)[["subject_id", "status", "binary"]].values.tolist())
    [['P1', 'Mutant', 1.0], ['P1', 'Wildtype', 0.0], ['P2', 'Wildtype', 0.0]]
    """
    frame = kg.query(MARKER_STATUS_QUERY)
    assert isinstance(frame, pd.DataFrame)
    frame = frame.drop_duplicates(subset=["subject", "marker", "status", "value", "graph"]).reset_index(drop=True)

    def binary(row: pd.Series) -> float:
        if pd.notna(row["value"]):
            return float(row["value"])
        try:
            value = marker_value(str(row["status"]))
        except ValueError:
            return float("nan")
        return float("nan") if value is None else value

    frame["binary"] = frame.apply(binary, axis=1) if len(frame) else pd.Series(dtype=float)
    if "subject_id" in frame:
        frame["subject_id"] = frame["subject_id"].fillna(frame["subject"].astype(str).str.rsplit("/", n=1).str[-1])
    return frame


def marker_conflicts(kg: KnowledgeGraph, statuses: pd.DataFrame | None = None) -> pd.DataFrame:
    """Subjects whose known (positive/negative) status of one marker differs between graphs.

    One row per disagreeing statement: ``subject_id, marker_label, status, binary, graph``,
    sorted by subject and marker. Unknown / not-collected statuses never conflict.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Mutant,1.5\\nP2,Wildtype,2.5\\n")
    >>> _ = (folder / "b.csv").write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Wildtype,1.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "a.csv", kind="radiomics-csv")
    >>> report = kg.load(folder / "b.csv", kind="radiomics-csv")
    >>> marker_conflicts(kg)[["subject_id", "marker_label", "status"]].values.tolist()
    [['P1', 'EGFR mutation status', 'Mutant'], ['P1', 'EGFR mutation status', 'Wildtype']]
    """
    frame = marker_statuses(kg) if statuses is None else statuses
    columns = ["subject", "subject_id", "marker", "marker_label", "status", "binary", "graph"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    known = frame.dropna(subset=["binary"])
    spread = known.groupby(["subject", "marker"])["binary"].nunique()
    disputed = spread[spread > 1].index
    if len(disputed) == 0:
        return pd.DataFrame(columns=columns)
    keyed = known.set_index(["subject", "marker"])
    rows = keyed.loc[keyed.index.isin(disputed)].reset_index()
    return rows[columns].sort_values(["subject_id", "marker_label", "graph"]).reset_index(drop=True)


def note_conflicts(kg: KnowledgeGraph, report: object) -> int:
    """Add a note to a load report for every subject whose marker status in the graph just
    loaded disagrees with another graph; returns how many subjects disagree.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Mutant,1.5\\nP2,Wildtype,2.5\\n")
    >>> _ = (folder / "b.csv").write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Wildtype,1.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "a.csv", kind="radiomics-csv")
    >>> report = kg.load(folder / "b.csv", kind="radiomics-csv")
    >>> note_conflicts(kg, report), report.notes[-1]
    (1, "conflict: EGFR mutation status of P1: 'Mutant' in ...a.csv/...; 'Wildtype' in ...b.csv/... (both kept)")
    """
    graph = getattr(report, "graph", None)
    conflicts = marker_conflicts(kg)
    if conflicts.empty or graph is None:
        return 0
    involved = conflicts[conflicts.groupby(["subject", "marker"])["graph"].transform(lambda g: graph in set(g))]
    for (subject_id, label), rows in involved.groupby(["subject_id", "marker_label"]):
        stated = "; ".join(f"{row.status!r} in {row.graph}" for row in rows.itertuples(index=False))
        report.note(f"conflict: {label} of {subject_id}: {stated} (both kept)")  # type: ignore[attr-defined]
    return int(involved["subject"].nunique())
