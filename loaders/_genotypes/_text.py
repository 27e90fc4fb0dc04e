"""Reading the small whitespace tables beside genotype files (.bim, .fam, .pvar, .psam, .sample)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import GenotypeError

__all__ = ["read_table", "to_int"]


def read_table(
    path: Path, *, columns: int | None = None, comment: str | None = None, skip_lines: int = 0, hint: str
) -> tuple[pd.DataFrame, int]:
    """Whitespace table as strings; every data row must have ``columns`` fields.

    Returns the table and the 1-based file line of its first row (for error messages).
    """
    if not path.is_file():
        raise GenotypeError(path, "file not found", hint=hint)
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    first = skip_lines
    if comment is not None:
        while first < len(lines) and lines[first].startswith(comment):
            first += 1
    body = lines[first:]
    if columns is not None:
        for number, line in enumerate(body, start=first + 1):
            if not line.strip():
                raise GenotypeError(path, "empty line", line=number, hint=hint)
            n = len(line.split())
            if n != columns:
                raise GenotypeError(path, f"{n} fields where {columns} are expected", line=number, hint=hint)
    if not body:
        return pd.DataFrame(columns=range(columns or 0), dtype=object), first + 1
    frame = pd.read_csv(
        io.StringIO("\n".join(body)), sep=r"\s+", header=None, dtype=str, keep_default_na=False,
        engine="c",
    )
    return frame, first + 1


def to_int(path: Path, values: pd.Series, *, what: str, first_line: int, hint: str) -> np.ndarray:
    """Integers, or an error naming the first line that is not one."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers != np.floor(numbers))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise GenotypeError(path, f"{what} {values.iloc[row]!r} is not an integer", line=first_line + row, hint=hint)
    return numbers.to_numpy(dtype=np.int64)
