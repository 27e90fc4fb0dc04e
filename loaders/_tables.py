"""Reading source files: compressed or not, line by line or as a delimited table, with progress.

Every error is a ``LoadError`` naming the file and line, and what to do. ``find_subject_column``
is the one rule for which column of a table holds the subject ids.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kg.core.errors import LoadError
from loaders._contract import LoadContext

__all__ = ["ID_COLUMNS", "TableRow", "find_subject_column", "iter_lines", "iter_table", "open_text"]

ID_COLUMNS = (
    "case id", "caseid", "case", "case_id", "patientid", "patient id", "patient_id", "patient",
    "subject", "subject id", "subject_id", "subjectid", "participant", "participant id", "id",
    "bcr_patient_barcode", "submitter_id",
)
"""Header names (lower case) taken as the subject column, in order of preference."""


def find_subject_column(
    headers: Sequence[str],
    wanted: str | None,
    path: Path,
    *,
    candidates: Collection[str] | None = None,
    exclude: Collection[str] = (),
    row_names: bool = False,
    hint: str = "give --id-column NAME",
) -> str | None:
    """The column holding subject ids.

    ``wanted`` (the ``id_column`` option) must exist (case-insensitively) else ``LoadError``.
    Otherwise: with ``row_names``, a first column with an empty header (R's ``write.csv``
    row names); then the first of ``ID_COLUMNS`` among ``candidates`` (default: all headers)
    that is not in ``exclude``. None found: ``LoadError`` with ``hint``, or ``None`` when
    ``hint`` is empty (the caller has another way).

    >>> find_subject_column(["Case ID", "age"], None, Path("t.csv"))
    'Case ID'
    >>> find_subject_column(["", "age"], None, Path("t.csv"), row_names=True)
    ''
    """
    if wanted:
        for header in headers:
            if header == wanted or header.strip().lower() == wanted.strip().lower():
                return header
        raise LoadError(path, f"no column {wanted!r}; columns: {', '.join(headers[:10])}", line=1, hint="check --id-column")
    if row_names and headers and headers[0].strip() == "":
        return headers[0]
    pool = headers if candidates is None else [h for h in headers if h in candidates]
    lowered = {h.strip().lower(): h for h in pool}
    for name in ID_COLUMNS:
        if name in lowered and name not in exclude:
            return lowered[name]
    if not hint:
        return None
    raise LoadError(path, f"cannot tell the subject column; columns: {', '.join(headers[:10])}", line=1, hint=hint)


class _ProgressReader(io.RawIOBase):
    """Wraps a binary file and reports bytes read to a callback."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None]) -> None:
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            self._progress(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_binary(path: Path, progress: Callable[[int], None] | None) -> IO[bytes]:
    raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if progress is not None:
        raw = io.BufferedReader(_ProgressReader(raw, progress))
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if name.endswith(".bz2"):
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    return raw


def open_text(path: Path, context: LoadContext | None = None) -> IO[bytes]:
    """Open a possibly gzip/bz2-compressed file as bytes, reporting progress to the context."""
    if not path.exists():
        raise LoadError(path, "file not found", hint="check the path")
    if path.is_dir():
        raise LoadError(path, "is a folder, not a file", hint="name a file, or a --kind that reads folders")
    return _open_binary(path, context.progress if context else None)


def iter_lines(
    path: Path,
    context: LoadContext | None = None,
    *,
    encoding: str = "utf-8",
) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text without newline)`` from a text file, gzip or not.

    Bad encoding and truncated archives raise ``LoadError`` with the line number.
    """
    lineno = 0
    with open_text(path, context) as handle:
        try:
            for lineno, raw in enumerate(handle, start=1):  # noqa: B007
                try:
                    text = raw.decode(encoding)
                except UnicodeDecodeError as exc:
                    raise LoadError(
                        path,
                        f"not valid {encoding} at byte {exc.start} of the line",
                        line=lineno,
                        hint=f"save the file as {encoding}",
                    ) from None
                if lineno == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                yield lineno, text.rstrip("\r\n")
        except (EOFError, zlib.error, OSError) as exc:
            if isinstance(exc, LoadError):
                raise
            raise LoadError(
                path,
                f"file is truncated or not a valid archive ({exc})",
                line=lineno + 1,
                hint="download the file again",
            ) from None


@dataclass(frozen=True)
class TableRow:
    """One data row of a delimited table: its line number and cells by column name."""

    line: int
    cells: dict[str, str]


def iter_table(
    path: Path,
    context: LoadContext | None = None,
    *,
    delimiter: str = "\t",
    required: Sequence[str] = (),
    comment: str | None = None,
    header_line: int = 1,
    ragged: bool = True,
) -> Iterator[TableRow]:
    """Yield the rows of a CSV/TSV file (gzip or not) as ``TableRow`` records.

    The header is line ``header_line`` (lines before it are skipped); ``required``
    columns must be in it, else ``LoadError`` names the missing ones and the columns
    found (which also catches a wrong separator). With ``ragged`` short rows are padded
    with empty cells, as HGNC's own downloads need; a row longer than the header is an
    error naming its line.
    """
    state = {"line": 0}

    def numbered() -> Iterator[str]:
        for lineno, text in iter_lines(path, context):
            if lineno < header_line or (comment and text.startswith(comment)):
                continue
            state["line"] = lineno
            yield text

    header: list[str] | None = None
    for row in csv.reader(numbered(), delimiter=delimiter):
        line = state["line"]
        if header is None:
            header = [h.strip() for h in row]
            missing = [c for c in required if c not in header]
            if missing:
                shown = ", ".join(header[:8]) + (" ..." if len(header) > 8 else "")
                sep = "tab" if delimiter == "\t" else repr(delimiter)
                raise LoadError(
                    path,
                    f"missing column(s) {', '.join(map(repr, missing))}; columns found: {shown}",
                    line=line,
                    hint=f"the file must be {sep}-separated with a header row",
                )
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            if any(c.strip() for c in row[len(header):]):
                raise LoadError(
                    path,
                    f"{len(row)} cells but the header has {len(header)} columns",
                    line=line,
                    hint="check the separator and quoting of this line",
                )
            row = row[: len(header)]
        if len(row) < len(header):
            if not ragged:
                raise LoadError(path, f"{len(row)} cells but the header has {len(header)} columns", line=line)
            row = row + [""] * (len(header) - len(row))
        yield TableRow(line, dict(zip(header, row, strict=True)))
    if header is None:
        raise LoadError(path, "the file is empty", line=1, hint="expected a header row")
