"""Row buffers between a loader's table reader and a ``MatrixSink``: cells in, typed chunks out.

A loader that reads a table row by row hands each row's cells to a :class:`MatrixBuffer`;
every few thousand rows the buffer parses the cells in one vectorised step (float64, the
same values as Python's ``float``), checks them (a non-numeric or non-finite cell is a
``LoadError`` naming file, line and column) and writes the chunk to the sink. So a
columnar load holds one chunk of the matrix at a time, whatever the file's size.
:class:`CategoryBuffer` keeps a small table whole and decides per column whether it holds
numbers or categories (clinical variables).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kg.core.errors import LoadError
from loaders._contract import LoadContext, MatrixSink

__all__ = ["MISSING_TOKENS", "CategoryBuffer", "MatrixBuffer", "open_buffer"]

MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "none", "null", "#n/a", "-", "not collected", "unknown",
                            "not available", "not reported", "[not available]", "[not evaluated]", "[unknown]"})
"""Cells that mean "no value" in a matrix (compared stripped and lower case)."""

_CELLS_PER_CHUNK = 4_000_000


class MatrixBuffer:
    """Numeric rows for one sink, parsed and written in chunks (``add`` ... ``close``).

    ``convert`` (optional) maps one cell's text to a float or None (marker statuses); it
    runs per cell, so use it for narrow matrices only. Without it cells are parsed as numbers.
    """

    def __init__(
        self,
        sink: MatrixSink,
        path: Path,
        names: Sequence[str],
        *,
        convert: Callable[[str], float | None] | None = None,
        with_roi: bool = False,
        what: str = "value",
        fields: Sequence[str] | None = None,
    ) -> None:
        self.sink = sink
        self.path = path
        self.sink_names = list(names)
        self.names = list(fields) if fields is not None else list(names)
        """The file's column headers, for error messages."""
        self.convert = convert
        self.with_roi = with_roi
        self.what = what
        self.chunk = max(64, _CELLS_PER_CHUNK // max(1, len(self.names)))
        self._subjects: list[str] = []
        self._rois: list[str | None] = []
        self._lines: list[int | None] = []
        self._cells: list[Sequence[Any]] = []
        self.rows = 0

    @property
    def active(self) -> bool:
        """Whether the rows are kept (the sink is active)."""
        return self.sink.active

    def add(self, subject: str, cells: Sequence[Any], line: int | None = None, roi: str | None = None) -> None:
        """One row: the subject IRI, its cells (text or numbers) in ``names`` order, its file line."""
        if not self.sink.active:
            return
        self._subjects.append(subject)
        self._cells.append(cells)
        self._lines.append(line)
        if self.with_roi:
            self._rois.append(roi)
        if len(self._cells) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        """Parse and write the buffered rows."""
        if not self._cells:
            return
        values = self._parse()
        frame = pd.DataFrame(values, columns=list(self.sink_names), copy=False)
        frame.insert(0, "subject", self._subjects)
        if self.with_roi:
            frame.insert(1, "roi", self._rois)
        self.sink.write(frame)
        self.rows += len(frame)
        self._subjects, self._rois, self._lines, self._cells = [], [], [], []

    def close(self) -> None:
        """Write what is left (call once, after the last row)."""
        self.flush()

    def _parse(self) -> np.ndarray:
        if self.convert is not None:
            return np.array(
                [[_convert_cell(self.convert, c) for c in row] for row in self._cells], dtype=np.float64
            ).reshape(len(self._cells), len(self.names))
        text = np.array(self._cells, dtype=object).reshape(len(self._cells), len(self.names))
        try:
            cells = text.astype(str)
        except (TypeError, ValueError):  # pragma: no cover - str() of anything works
            cells = np.vectorize(str, otypes=[object])(text).astype(str)
        folded = np.char.lower(np.char.strip(cells))
        missing = np.isin(folded, list(MISSING_TOKENS))
        cells = np.where(missing, "nan", cells)
        try:
            values = cells.astype(np.float64)
        except ValueError:
            self._raise_bad(cells, missing)
            raise  # pragma: no cover - _raise_bad always raises
        values[missing] = np.nan
        bad = ~np.isfinite(values) & ~missing
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise LoadError(self.path, f"{self.what} {cells[i, j]!r} is not finite", line=self._lines[i],
                            field=self.names[j], hint="leave a missing value empty")
        return values

    def _raise_bad(self, cells: np.ndarray, missing: np.ndarray) -> None:
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                if missing[i, j]:
                    continue
                try:
                    float(cell)
                except ValueError:
                    raise LoadError(
                        self.path, f"{self.what} {str(cell)!r} is not a number", line=self._lines[i],
                        field=self.names[j], hint="cells hold numbers; leave a missing value empty",
                    ) from None
        raise LoadError(self.path, f"a {self.what} is not a number")  # pragma: no cover


def _convert_cell(convert: Callable[[str], float | None], cell: Any) -> float:
    value = convert(str(cell))
    return np.nan if value is None else float(value)


class CategoryBuffer:
    """A small table of mixed variables kept whole: numbers -> float64, other text -> categories.

    Written by ``close``: a column whose non-missing cells all parse as finite numbers is
    numeric, any other is categorical (dictionary codes); columns with no value are left out
    (with a note to the report) instead of failing the load.
    """

    def __init__(
        self,
        context: LoadContext,
        name: str,
        *,
        kind: str,
        variables: Mapping[str, str],
        missing: Collection[str] = MISSING_TOKENS,
    ) -> None:
        self.context = context
        self.name = name
        self.kind = kind
        self.variables = dict(variables)
        self.missing = frozenset(m.lower() for m in missing)
        self._rows: dict[str, dict[str, str]] = {}

    def add(self, subject: str, cells: Mapping[str, Any]) -> None:
        """The cells of one subject (a later row of the same subject fills its blanks)."""
        if not self.context.columnar:
            return
        row = self._rows.setdefault(subject, {})
        for key, value in cells.items():
            if key not in self.variables or value is None:
                continue
            text = str(value).strip()
            if text.lower() in self.missing:
                continue
            row.setdefault(key, text)

    def close(self, report: Any = None) -> None:
        """Type the columns and write the table (nothing when no subject has a value)."""
        if not self.context.columnar or not self._rows:
            return
        frame = pd.DataFrame.from_dict(self._rows, orient="index")
        keep = [v for v in self.variables if v in frame.columns and frame[v].notna().any()]
        empty = [v for v in self.variables if v not in keep]
        if empty and report is not None:
            report.note(f"{self.kind} matrix: {len(empty)} column(s) with no value left out ({', '.join(empty[:5])})")
        if not keep:
            return
        frame = frame[keep]
        categorical = []
        for column in keep:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            if numbers.notna().sum() == frame[column].notna().sum() and np.isfinite(numbers.dropna()).all():
                frame[column] = numbers.astype("float64")
            else:
                categorical.append(column)
        frame.index.name = "subject"
        sink = self.context.matrix(
            self.name, kind=self.kind, variables={v: self.variables[v] for v in keep}, categorical=categorical
        )
        sink.write(frame.reset_index())


def open_buffer(
    context: LoadContext,
    path: Path,
    name: str,
    *,
    kind: str,
    variables: Mapping[str, str],
    convert: Callable[[str], float | None] | None = None,
    with_roi: bool = False,
    what: str = "value",
    fields: Sequence[str] | None = None,
) -> MatrixBuffer:
    """A :class:`MatrixBuffer` over ``context.matrix(name, kind=..., variables=...)``; ``fields``
    are the file's headers of the variables (default: their names), for error messages."""
    sink = context.matrix(name, kind=kind, variables=dict(variables)) if variables else _Nothing()
    return MatrixBuffer(sink, path, list(variables), convert=convert, with_roi=with_roi, what=what, fields=fields)


class _Nothing:
    active = False

    def write(self, frame: Any) -> None:
        """Discard."""

    def write_variables(self, block: Any, names: Sequence[str] | None = None) -> None:
        """Discard."""
