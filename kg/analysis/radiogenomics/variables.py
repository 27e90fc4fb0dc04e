"""Subject variables by column name: covariates, batches and labels for a cohort.

Every column of a clinical table that is not a known field is loaded as a typed subject
variable (``clinical`` matrix: numbers as float64, categories with their levels; missing
tokens NaN); marker statuses are the ``markers`` matrix (1/0/NaN). :func:`subject_table`
picks columns of either by the name they had in the loaded table.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kg.analysis.radiogenomics.runs import cohort_members
from kg.core.errors import AssociationError
from kg.core.values import subject_variable

__all__ = ["VARIABLE_KINDS", "subject_table"]

VARIABLE_KINDS = ("clinical", "markers")
"""The data-plane matrix kinds whose columns are subject variables."""


def subject_table(
    kg: object,
    names: Sequence[str],
    *,
    cohort: str | None = None,
    subjects: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Subjects x ``names`` (typed) from the clinical and marker matrices, and the graphs read.

    A name is a column as loaded (``Age at Histological Diagnosis``, ``Patient affiliation``,
    ``EGFR mutation status``); the clinical matrix wins when both have it.

    :raises AssociationError: a name no loaded table has (the message lists the available ones).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "clinical.csv"
    >>> _ = table.write_text("Case ID,Gender,Age at Histological Diagnosis\\nA,Male,61\\nB,Female,N/A\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="clinical")
    >>> frame, _ = subject_table(kg, ["Gender", "Age at Histological Diagnosis"])
    >>> frame["Age at Histological Diagnosis"].tolist(), frame["Gender"].cat.categories.tolist()
    ([61.0, nan], ['Female', 'Male'])
    >>> subject_table(kg, ["Smoking"])
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: no subject variable 'Smoking'; available: Age at Histological Diagnosis, Gender
    """
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if subjects is None:
        subjects = cohort_members(kg, cohort)
    columns: dict[str, pd.Series] = {}
    available: list[str] = []
    graphs: list[str] = []
    plane = kg.data_plane  # type: ignore[attr-defined]
    for kind in VARIABLE_KINDS:
        owner = kg.matrix_graphs(kind=kind)  # type: ignore[attr-defined]
        for file in kg.matrix_files(kind=kind):  # type: ignore[attr-defined]
            names_here = list(plane.column_map(file))
            available += [c for c in names_here if c not in available]
            here = [n for n in wanted if n in names_here]
            if not here:
                continue
            frame = plane.matrix([file], variables=here, subjects=subjects)
            if frame.index.nlevels > 1:
                frame = frame.droplevel([n for n in frame.index.names if n != "subject"])
            frame = frame[~frame.index.duplicated()]
            for name in here:
                # several sources: the first file read gives the value, later ones fill its gaps
                columns[name] = frame[name] if name not in columns else columns[name].combine_first(frame[name])
            if file.path in owner and owner[file.path] not in graphs:
                graphs.append(owner[file.path])
    unknown = [n for n in wanted if n not in columns]
    if unknown:
        shown = ", ".join(sorted(available)) or "none (load a clinical table first)"
        raise AssociationError(f"no subject variable {unknown[0]!r}; available: {shown}")
    typed = {name: _typed(series) for name, series in columns.items()}
    table = pd.DataFrame(typed)
    table.index.name = "subject"
    return table[wanted], graphs


def _typed(series: pd.Series) -> pd.Series:
    """A column of the data plane as a subject variable (categories keep their levels, sorted)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return subject_variable(series.astype(object).where(series.notna(), None), categorical=True)
    return subject_variable(series)
