"""Checking and converting the row batches a writer receives (wide layout) into Arrow tables.

Every check raises :class:`DataPlaneError` naming the origin, the row (1-based over the whole
stream), the subject and the column: non-numeric cells, non-finite numbers, integers that
float64 cannot hold exactly, missing or repeated subjects, repeated variables, and batches
whose columns differ from the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kg.dataplane.errors import DataPlaneError
from kg.dataplane.records import KEY_COLUMNS

__all__ = ["WideBatches", "as_frame"]

_EXACT = float(2**53)


def as_frame(batch: Any) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame, Arrow record batch or Arrow table."""
    if isinstance(batch, pd.DataFrame):
        return batch
    if isinstance(batch, (pa.RecordBatch, pa.Table)):
        names = batch.schema.names
        if len(set(names)) != len(names):
            seen: set[str] = set()
            dup = next(n for n in names if n in seen or seen.add(n))  # type: ignore[func-returns-value]
            raise _duplicate_variable(dup)
        return batch.to_pandas()
    raise TypeError(f"a batch must be a pandas DataFrame or an Arrow record batch/table, not {type(batch).__name__}")


def _duplicate_variable(name: str, origin: str = "") -> DataPlaneError:
    return DataPlaneError(
        origin or "<batch>",
        "the variable appears twice",
        column=str(name),
        hint="each variable (feature, gene, marker) must be one column; rename or drop the repeat",
    )


@dataclass
class WideBatches:
    """The running state of one wide matrix being written: its columns, keys seen, counts, levels."""

    origin: str
    declared: list[str] | None
    categorical: frozenset[str]
    dtype: np.dtype[Any]
    first_line: int | None = None
    keys: tuple[str, ...] = ()
    variables: list[str] = field(default_factory=list)
    rows: int = 0
    schema: pa.Schema | None = None
    _seen: set[tuple[Any, ...]] = field(default_factory=set)
    _counts: np.ndarray | None = None
    _levels: dict[str, dict[str, None]] = field(default_factory=dict)

    # -- errors ---------------------------------------------------------------------------
    def error(self, message: str, *, row: int | None = None, subject: Any = None, column: str | None = None,
              hint: str | None = None) -> DataPlaneError:
        """A DataPlaneError at ``row`` (0-based in the current batch) of the stream."""
        stream_row = None if row is None else self.rows + row + 1
        line = None
        if stream_row is not None and self.first_line is not None:
            line = self.first_line + stream_row - 1
        return DataPlaneError(
            self.origin,
            message,
            row=stream_row,
            line=line,
            subject=None if subject is None else str(subject),
            column=column,
            hint=hint,
        )

    # -- schema ---------------------------------------------------------------------------
    def _fix_schema(self, frame: pd.DataFrame) -> None:
        keys = tuple(k for k in KEY_COLUMNS if k in frame.columns)
        present = [c for c in frame.columns if c not in keys]
        if self.declared is not None:
            variables = list(self.declared)
            missing = [v for v in variables if v not in frame.columns]
            extra = [c for c in present if c not in set(variables)]
            if missing or extra:
                raise self.error(
                    "the batch's columns differ from the declared variables"
                    + (f"; missing {_few(missing)}" if missing else "")
                    + (f"; not declared {_few(extra)}" if extra else ""),
                    hint="pass every declared variable in every batch",
                )
        else:
            variables = [str(c) for c in present]
        clash = [v for v in variables if v in KEY_COLUMNS]
        if clash:
            raise self.error(f"a variable is named like a key column ({_few(clash)})", column=clash[0],
                             hint="rename the variable")
        unknown_cat = sorted(self.categorical - set(variables))
        if unknown_cat:
            raise self.error(f"categorical variables not in the matrix: {_few(unknown_cat)}")
        if not variables:
            raise self.error("the matrix has no variable column")
        self.keys = keys
        self.variables = variables
        self._counts = np.zeros(len(variables), dtype=np.int64)
        self._levels = {v: {} for v in variables if v in self.categorical}
        value_type = pa.float64() if self.dtype == np.float64 else pa.float32()
        fields = [pa.field("subject", pa.string(), nullable=False)]
        if "roi" in keys:
            fields.append(pa.field("roi", pa.string()))
        if "replicate" in keys:
            fields.append(pa.field("replicate", pa.int64()))
        for v in variables:
            kind = pa.dictionary(pa.int32(), pa.string()) if v in self.categorical else value_type
            fields.append(pa.field(v, kind))
        self.schema = pa.schema(fields)

    # -- one batch ------------------------------------------------------------------------
    def convert(self, batch: Any) -> pa.Table:
        """Check one batch and return it as an Arrow table in the file's schema."""
        frame = as_frame(batch)
        if "subject" not in frame.columns:
            if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
                raise self.error("the batch has no 'subject' column (and its index is not named)",
                                 hint="put the subject IRIs in a 'subject' column or the index")
            frame = frame.reset_index(names="subject") if frame.index.nlevels == 1 else frame.reset_index()
        columns = [str(c) for c in frame.columns]
        if len(set(columns)) != len(columns):
            seen: set[str] = set()
            dup = next(c for c in columns if c in seen or seen.add(c))  # type: ignore[func-returns-value]
            raise _duplicate_variable(dup, self.origin)
        frame.columns = columns
        if self.schema is None:
            self._fix_schema(frame)
        else:
            expected = set(self.keys) | set(self.variables)
            if set(columns) != expected:
                missing = sorted(expected - set(columns))
                extra = sorted(set(columns) - expected)
                raise self.error(
                    "the batch's columns differ from the first batch's"
                    + (f"; missing {_few(missing)}" if missing else "")
                    + (f"; new {_few(extra)}" if extra else ""),
                )
        n = len(frame)
        arrays: list[pa.Array] = []
        subjects = self._subjects(frame)
        arrays.append(pa.array(subjects, type=pa.string()))
        key_values: list[Sequence[Any]] = [subjects]
        if "roi" in self.keys:
            roi = frame["roi"].astype(object).where(frame["roi"].notna(), None)
            roi_values = [None if r is None else str(r) for r in roi]
            arrays.append(pa.array(roi_values, type=pa.string()))
            key_values.append(roi_values)
        if "replicate" in self.keys:
            rep = self._integers(frame["replicate"], "replicate", subjects)
            arrays.append(pa.array(rep, type=pa.int64()))
            key_values.append(rep)
        self._check_keys(key_values, subjects)
        assert self._counts is not None
        for position, name in enumerate(self.variables):
            if name in self.categorical:
                array, count = self._categorical(frame[name], name)
            else:
                array, count = self._numeric(frame[name], name, subjects)
            self._counts[position] += count
            arrays.append(array)
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        self.rows += n
        return table

    def _subjects(self, frame: pd.DataFrame) -> list[str]:
        raw = frame["subject"]
        missing = raw.isna().to_numpy()
        values = ["" if m else str(s) for s, m in zip(raw.tolist(), missing, strict=True)]
        for i, s in enumerate(values):
            if not s.strip():
                raise self.error("the subject is missing", row=i, column="subject",
                                 hint="every row needs a subject identifier")
        return values

    def _integers(self, series: pd.Series, column: str, subjects: list[str]) -> list[int | None]:
        numbers = pd.to_numeric(series, errors="coerce")
        out: list[int | None] = []
        for i, (raw, number) in enumerate(zip(series.tolist(), numbers.tolist(), strict=True)):
            if raw is None or (isinstance(raw, float) and np.isnan(raw)):
                out.append(None)
            elif number is None or np.isnan(number) or float(number) != int(number):
                raise self.error(f"{column} must be a whole number, not {raw!r}", row=i, subject=subjects[i],
                                 column=column)
            else:
                out.append(int(number))
        return out

    def _check_keys(self, key_values: list[Sequence[Any]], subjects: list[str]) -> None:
        seen = self._seen
        for i, key in enumerate(zip(*key_values, strict=True)):
            if key in seen:
                what = "subject" if len(key) == 1 else "subject/" + "/".join(self.keys[1:])
                raise self.error(
                    f"the {what} appears twice" + (f" ({', '.join(map(str, key[1:]))})" if len(key) > 1 else ""),
                    row=i, subject=subjects[i], column="subject",
                    hint="each subject (and ROI, replicate) must be one row; remove or merge the repeat",
                )
            seen.add(key)

    def _numeric(self, series: pd.Series, name: str, subjects: list[str]) -> tuple[pa.Array, int]:
        """One checked numeric column as an Arrow array (NaN -> null) and its count of values."""
        dtype = series.dtype
        if dtype == np.float64 or dtype == np.float32:
            values = series.to_numpy()
        else:
            values = self._to_float(series, name, subjects)
        if self.dtype != values.dtype:
            with np.errstate(over="ignore"):
                narrowed = values.astype(self.dtype)
            overflow = np.isinf(narrowed) & np.isfinite(values)
            if overflow.any():
                i = int(np.argmax(overflow))
                raise self.error(f"{float(values[i])!r} does not fit in {self.dtype}", row=i, subject=subjects[i], column=name)
            values = narrowed
        infinite = np.isinf(values)
        if infinite.any():
            i = int(np.argmax(infinite))
            raise self.error(f"non-finite value {float(values[i])!r}", row=i, subject=subjects[i], column=name,
                             hint="leave the cell empty for a missing value")
        array = pa.array(values, from_pandas=True)
        return array, len(array) - array.null_count

    def _to_float(self, series: pd.Series, name: str, subjects: list[str]) -> np.ndarray:
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return series.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        if pd.api.types.is_integer_dtype(dtype):
            ints = series.to_numpy(dtype=np.float64, na_value=np.nan)
            big = np.abs(ints) > _EXACT
            if big.any():
                i = int(np.argmax(big))
                raise self.error(f"integer {series.iloc[i]!r} cannot be stored exactly as a float64", row=i,
                                 subject=subjects[i], column=name)
            return ints
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        # text (or mixed objects): parse, and refuse anything that is not a number or blank
        text = series.astype(object)
        blank = text.isna() | text.map(lambda x: isinstance(x, str) and not x.strip())
        numbers = pd.to_numeric(text.where(~blank, None), errors="coerce")
        bad = numbers.isna() & ~blank
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise self.error(
                f"non-numeric value {text.iloc[i]!r}",
                row=i, subject=subjects[i], column=name,
                hint="fix the cell, leave it empty for a missing value, or declare the variable categorical",
            )
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)

    def _categorical(self, series: pd.Series, name: str) -> tuple[pa.Array, int]:
        levels = self._levels[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            for level in series.cat.categories:
                levels.setdefault(str(level), None)
        values = [None if pd.isna(x) else str(x) for x in series.tolist()]
        for x in values:
            if x is not None:
                levels.setdefault(x, None)
        array = pa.array(values, type=pa.string()).dictionary_encode()
        return array.cast(pa.dictionary(pa.int32(), pa.string())), sum(x is not None for x in values)

    # -- end ------------------------------------------------------------------------------
    def finish(self) -> None:
        """Final checks over the whole stream: rows exist, no variable entirely empty."""
        if self.schema is None or self.rows == 0:
            raise self.error("the matrix has no rows", hint="check the source file has data rows")
        assert self._counts is not None
        empty = [v for v, c in zip(self.variables, self._counts.tolist(), strict=True) if c == 0]
        if empty:
            raise DataPlaneError(
                self.origin,
                f"the column is empty in all {self.rows} rows" + (f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""),
                column=empty[0],
                hint="drop empty columns before loading",
            )

    @property
    def levels(self) -> dict[str, list[str]]:
        """Levels of each categorical variable, in order of first appearance (or of the pandas categories)."""
        return {k: list(v) for k, v in self._levels.items()}


def _few(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def column_map(variables: Sequence[str], declared: Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    """Variable name -> IRI ("" when none was declared)."""
    if isinstance(declared, Mapping):
        return {v: str(declared.get(v) or "") for v in variables}
    return {v: "" for v in variables}
