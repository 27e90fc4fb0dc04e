"""DuckDB reads of matrix files: only the asked columns (projection pushdown) and subjects."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kg.dataplane.records import MatrixInfo

__all__ = ["quote", "read_by_variable", "read_wide", "select_variables", "stream_wide"]

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


def read_by_variable(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    info: MatrixInfo,
    variables: Sequence[str],
    subjects: Sequence[str] | None,
) -> pd.DataFrame:
    """Subjects x ``variables`` of a by-variable file (only the rows of those variables read)."""
    sql = "SELECT variable, \"values\" FROM read_parquet(?) WHERE variable IN (SELECT unnest(?::VARCHAR[]))"
    table = con.sql(sql, params=[str(path), list(variables)]).to_arrow_table()
    n = len(info.subjects)
    names = table.column("variable").to_pylist()
    flat = table.column("values").combine_chunks()
    matrix = flat.flatten().to_numpy(zero_copy_only=False).reshape(len(names), n) if names else np.empty((0, n))
    position = {name: i for i, name in enumerate(names)}
    order = [position[v] for v in variables if v in position]
    axis = list(info.subjects)
    if subjects is not None:
        where = {s: j for j, s in enumerate(axis)}
        keep = [where[s] for s in dict.fromkeys(subjects) if s in where]
        matrix = matrix[:, keep]
        axis = [axis[j] for j in keep]
    frame = pd.DataFrame(matrix[order].T, index=pd.Index(axis, name="subject"),
                         columns=[names[i] for i in order])
    return frame
