"""The data plane's two errors: bad input (refused before anything is written) and a damaged store.

The base classes come from igkg's one error module (``kg.core.errors``); this is the only
import of igkg in the package besides its own modules.
"""

from __future__ import annotations

from pathlib import Path

from kg.core.errors import LoadError, StoreError

__all__ = ["DataPlaneError", "MatrixIntegrityError"]


class DataPlaneError(LoadError):
    """A matrix cannot be written or read as asked; names the file, row, subject and column.

    ``row`` is the 1-based data row in the stream written (or the source line when the
    writer was given ``first_line``); nothing has been renamed into place when it is raised.

    >>> str(DataPlaneError("features.csv", "non-numeric value 'abc'", row=3, subject="R01-003", column="x"))
    "features.csv, row 3, record 'R01-003', field 'x': non-numeric value 'abc'"
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        row: int | None = None,
        line: int | None = None,
        subject: str | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.row = row
        self.subject = subject
        self.column = column
        super().__init__(
            path,
            message,
            line=line,
            record=repr(subject) if subject is not None else None,
            field=column,
            hint=hint,
        )

    def __str__(self) -> str:
        text = super().__str__()
        if self.row is not None and self.line is None:
            head, sep, rest = text.partition(", " if self.record or self.field else ": ")
            text = f"{head}, row {self.row}{sep}{rest}"
        return text


class MatrixIntegrityError(StoreError):
    """A matrix file the catalog lists is missing, or its bytes no longer match the checksum.

    The message names the file, its source and how to recover (reload or drop the source).

    >>> str(MatrixIntegrityError("store/columnar/x.parquet", "the file is missing", source_key="radiomics-csv/features.csv"))
    "store/columnar/x.parquet (columnar values of source 'radiomics-csv/features.csv'): the file is missing; reload ..."
    """

    def __init__(self, path: str | Path, problem: str, *, source_key: str | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.source_key = source_key
        parts = source_key.split("/") if source_key else []
        source = parts[1] if len(parts) > 1 else (parts[0] if parts else "<source>")  # kind/file[/variant]
        fix = (
            f"reload the source with `igkg load {source} --replace` or remove it with `igkg drop {source}`"
        )
        owner = f" (columnar values of source {source_key!r})" if source_key else ""
        super().__init__(f"{self.path}{owner}: {problem}; {fix}")

    def __str__(self) -> str:
        return str(self.args[0])
