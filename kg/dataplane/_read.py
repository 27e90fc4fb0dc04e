"""DuckDB reads of matrix files: only the asked columns (projection pushdown) and subjects."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kg.dataplane.records import MatrixInfo

if TYPE_CHECKING:
    import duckdb

__all__ = ["VariableIndex", "quote", "read_by_variable", "read_wide", "read_wide_columns", "select_variables", "stream_wide"]

_GLOB = set("*?[")


def quote(name: str) -> str:
    """A DuckDB identifier for any column name."""
    return '"' + name.replace('"', '""') + '"'


def select_variables(available: Sequence[str], wanted: str | Sequence[str] | None) -> list[str]:
    """The variables of one file that ``wanted`` asks for, in the asked order (file order for a glob).

    >>> select_variables(["a_x", "a_y", "b_x"], "a_*"), select_variables(["a_x", "b_x"], ["b_x", "zz"])
    (['a_x', 'a_y'], ['b_x'])
    """
    if wanted is None:
        return list(available)
    if isinstance(wanted, str):
        if not _GLOB & set(wanted):
            return [wanted] if wanted in set(available) else []
        return [v for v in available if fnmatch.fnmatchcase(v, wanted)]
    present = set(available)
    return [v for v in dict.fromkeys(wanted) if v in present]


def _frame(table: pa.Table, info: MatrixInfo, keys: Sequence[str]) -> pd.DataFrame:
    frame = table.to_pandas()
    for name, levels in info.levels.items():
        if name in frame.columns:
            frame[name] = pd.Categorical(frame[name], categories=levels)
    return frame.set_index(list(keys))


def read_wide(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: MatrixInfo,
    variables: Sequence[str],
    subjects: Sequence[str] | None,
) -> pd.DataFrame:
    """Rows of a wide file (keys as the index) with only ``variables`` read."""
    columns = [*info.keys, *variables]
    sql = f"SELECT {', '.join(map(quote, columns))} FROM read_parquet(?)"
    params: list[object] = [str(path)]
    if subjects is not None:
        sql += " WHERE subject IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(subjects))
    table = con.sql(sql, params=params).to_arrow_table()
    return _frame(table, info, info.keys)


def read_wide_columns(path: Path, info: MatrixInfo, variables: Sequence[str]) -> pd.DataFrame:
    """Every row of a wide file (keys as the index) with only ``variables`` read, by Arrow alone
    (what ``read_wide`` gives without a subject filter, without starting DuckDB)."""
    columns = list(dict.fromkeys([*info.keys, *variables]))
    table = pq.read_table(path, columns=columns).replace_schema_metadata(None)
    for i, field in enumerate(table.schema):  # plain values, as DuckDB gives them
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return _frame(table, info, info.keys)


def stream_wide(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: MatrixInfo,
    variables: Sequence[str],
    subjects: Sequence[str] | None,
    rows: int,
) -> Iterator[pd.DataFrame]:
    """Rows of a wide file in blocks of at most ``rows``, in file order."""
    columns = [*info.keys, *variables]
    sql = f"SELECT {', '.join(map(quote, columns))} FROM read_parquet(?)"
    params: list[object] = [str(path)]
    if subjects is not None:
        sql += " WHERE subject IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(subjects))
    reader = con.sql(sql, params=params).to_arrow_reader(rows)
    for batch in reader:
        if batch.num_rows:
            yield _frame(pa.Table.from_batches([batch]), info, info.keys)


@dataclass(frozen=True)
class VariableIndex:
    """Where each variable of a by-variable file is: its row, and the first row of each row group."""

    rows: dict[str, int]
    starts: np.ndarray

    @classmethod
    def build(cls, path: Path) -> VariableIndex:
        """Read the (small) ``variable`` column and the row-group sizes from the footer."""
        handle = pq.ParquetFile(path)
        names = handle.read(columns=["variable"]).column("variable").to_pylist()
        sizes = [handle.metadata.row_group(i).num_rows for i in range(handle.metadata.num_row_groups)]
        return cls({name: i for i, name in enumerate(names)}, np.cumsum([0, *sizes[:-1]]))


def read_by_variable(
    path: Path,
    info: MatrixInfo,
    index: VariableIndex,
    variables: Sequence[str],
    subjects: Sequence[str] | None,
) -> pd.DataFrame:
    """Subjects x ``variables`` of a by-variable file, reading only the row groups that hold them.

    Row groups are read by number (pyarrow) rather than by a DuckDB filter, which would scan
    every row group unless the variables happened to be sorted.
    """
    wanted = [v for v in dict.fromkeys(variables) if v in index.rows]
    n = len(info.subjects)
    axis = list(info.subjects)
    keep: list[int] | None = None
    if subjects is not None:
        where = {s: j for j, s in enumerate(axis)}
        keep = [where[s] for s in dict.fromkeys(subjects) if s in where]
        axis = [axis[j] for j in keep]
    out = np.empty((len(wanted), len(axis)), dtype=np.dtype(info.dtype))
    rows = np.array([index.rows[v] for v in wanted], dtype=np.int64)
    groups = np.searchsorted(index.starts, rows, side="right") - 1
    handle = pq.ParquetFile(path)
    for group in np.unique(groups):
        mine = np.flatnonzero(groups == group)
        table = handle.read_row_group(int(group), columns=["values"])
        values = table.column("values").combine_chunks().take(pa.array(rows[mine] - index.starts[group]))
        block = values.flatten().to_numpy(zero_copy_only=False).reshape(len(mine), n)
        out[mine] = block if keep is None else block[:, keep]
    return pd.DataFrame(out.T, index=pd.Index(axis, name="subject"), columns=wanted)
