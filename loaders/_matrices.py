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
from kg.core.values import MISSING_TOKENS as _CORE_MISSING
from kg.core.values import normalise_token
from loaders._contract import LoadContext, MatrixSink

__all__ = ["MISSING_TOKENS", "CategoryBuffer", "MatrixBuffer", "ReplicateCodes", "TransposedBuffer", "open_buffer", "parse_block"]

MISSING_TOKENS = _CORE_MISSING
"""Cells that mean "no value" in a matrix: :data:`kg.core.values.MISSING_TOKENS`."""

_CELLS_PER_CHUNK = 4_000_000


class ReplicateCodes:
    """Replicate labels (scan, delineation, reader) as the data plane's whole-number replicate key:
    1, 2, ... in order of first appearance, the same code for the same label in every subject.

    >>> codes = ReplicateCodes()
    >>> codes.code("GTV-1auto-1"), codes.code("GTV-1vis-1"), codes.code("GTV-1auto-1")
    (1, 2, 1)
    >>> codes.describe()
    '1=GTV-1auto-1, 2=GTV-1vis-1'
    """

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, label: str) -> int:
        """The code of ``label`` (a new one for a label not met before)."""
        return self.codes.setdefault(label, len(self.codes) + 1)

    def describe(self) -> str:
        """``code=label`` pairs, for the load report."""
        return ", ".join(f"{c}={label}" for label, c in self.codes.items())


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
        key: str = "roi",
    ) -> None:
        self.sink = sink
        self.key = key
        """The name of the second row key written with ``with_roi`` (``roi`` or ``replicate``)."""
        self.path = path
        self.sink_names = list(names)
        self.names = list(fields) if fields is not None else list(names)
        """The file's column headers, for error messages."""
        self.convert = convert
        self.with_roi = with_roi
        self.what = what
        self.chunk = max(16, _CELLS_PER_CHUNK // max(1, len(self.names)))
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
            frame.insert(1, self.key, self._rois)
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
        if isinstance(self._cells[0], np.ndarray) and self._cells[0].dtype == np.float64:
            block = np.vstack(self._cells)  # rows parsed already (read by Arrow)
            if (np.isfinite(block) | np.isnan(block)).all():
                return block
        return parse_block(self._cells, self._lines, self.names, self.path, self.what)


def parse_block(
    rows: Sequence[Sequence[Any]], lines: Sequence[int | None], fields: Sequence[str], path: Path, what: str = "value"
) -> np.ndarray:
    """Cells (rows x fields, text or numbers) as float64 (missing tokens -> NaN), in one vectorised step.

    :raises LoadError: a cell that is not a number or not finite, naming its line and field.
    """
    text = np.empty((len(rows), len(fields)), dtype=object)
    text[...] = rows if len(rows) else np.empty((0, len(fields)), dtype=object)
    try:  # the common case: every cell a number (float() per cell, in C)
        values = text.astype(np.float64)
        missing = np.isnan(values)  # "nan" cells (pyradiomics writes them) are missing values
    except (TypeError, ValueError):
        missing = _is_missing(text)
        filled = np.where(missing, "nan", text)
        try:
            values = filled.astype(np.float64)
        except (TypeError, ValueError):
            _raise_bad(filled, missing, lines, fields, path, what)
            raise  # pragma: no cover - _raise_bad always raises
    missing |= np.isnan(values)
    values[missing] = np.nan
    bad = ~np.isfinite(values) & ~missing
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise LoadError(path, f"{what} {str(text[i, j]).strip()!r} is not finite", line=lines[i], field=fields[j],
                        hint="leave a missing value empty")
    return values


_MISSING_CELL = np.frompyfunc(lambda cell: cell is None or normalise_token(cell) in MISSING_TOKENS, 1, 1)


def _is_missing(text: np.ndarray) -> np.ndarray:
    """Cells that mean "no value" (None, empty, NA ...), as a boolean array."""
    return _MISSING_CELL(text).astype(bool)


def _raise_bad(cells: np.ndarray, missing: np.ndarray, lines: Sequence[int | None], fields: Sequence[str], path: Path,
               what: str) -> None:
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            if missing[i, j]:
                continue
            try:
                float(cell)
            except (TypeError, ValueError):
                raise LoadError(
                    path, f"{what} {str(cell).strip()!r} is not a number", line=lines[i], field=fields[j],
                    hint="cells hold numbers; leave a missing value empty",
                ) from None


class TransposedBuffer:
    """A matrix whose file rows are variables (genes x samples): rows are parsed as they come
    and the subjects x variables matrix is written by ``close`` (variables with no value are
    left out, with a note)."""

    def __init__(self, context: LoadContext, path: Path, name: str, *, kind: str, subjects: Sequence[str],
                 fields: Sequence[str], what: str = "value") -> None:
        self.context = context
        self.path = path
        self.name = name
        self.kind = kind
        self.subjects = list(subjects)
        self.fields = list(fields)
        self.what = what
        self._names: list[str] = []
        self._iris: list[str] = []
        self._values: list[np.ndarray] = []

    def add(self, name: str, iri: str | None, cells: Sequence[Any], line: int | None) -> None:
        """One variable: its name as loaded, IRI, and cells in ``subjects`` order."""
        if not self.context.columnar:
            return
        self._names.append(name)
        self._iris.append(iri or "")
        self._values.append(parse_block([cells], [line], self.fields, self.path, self.what)[0])

    def close(self, report: Any = None) -> None:
        """Write the matrix (subjects x variables) in row chunks."""
        if not self.context.columnar or not self._values:
            return
        values = np.vstack(self._values).T
        keep = ~np.isnan(values).all(axis=0)
        if not keep.all() and report is not None:
            dropped = [n for n, k in zip(self._names, keep, strict=True) if not k]
            report.note(f"{self.kind} matrix: {len(dropped)} variable(s) with no value left out ({', '.join(dropped[:5])})")
        names = [n for n, k in zip(self._names, keep, strict=True) if k]
        if not names:
            return
        iris = [i for i, k in zip(self._iris, keep, strict=True) if k]
        values = values[:, keep]
        sink = self.context.matrix(self.name, kind=self.kind, variables=dict(zip(names, iris, strict=True)))
        step = max(1, _CELLS_PER_CHUNK // len(names))
        for start in range(0, len(self.subjects), step):
            frame = pd.DataFrame(values[start:start + step], columns=names, copy=False)
            frame.insert(0, "subject", self.subjects[start:start + step])
            sink.write(frame)


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
        self.missing = frozenset(normalise_token(m) for m in missing)
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
            if normalise_token(text) in self.missing:
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
    key: str = "roi",
) -> MatrixBuffer:
    """A :class:`MatrixBuffer` over ``context.matrix(name, kind=..., variables=...)``; ``fields``
    are the file's headers of the variables (default: their names), for error messages."""
    sink = context.matrix(name, kind=kind, variables=dict(variables)) if variables else _Nothing()
    return MatrixBuffer(sink, path, list(variables), convert=convert, with_roi=with_roi, what=what, fields=fields, key=key)


class _Nothing:
    active = False

    def write(self, frame: Any) -> None:
        """Discard."""

    def write_variables(self, block: Any, names: Sequence[str] | None = None) -> None:
        """Discard."""
