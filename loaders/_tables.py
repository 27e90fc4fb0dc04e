"""Reading source files: compressed or not, line by line or as a delimited table, with progress.

Every error is a ``LoadError`` naming the file and line, and what to do. ``find_subject_column``
is the one rule for which column of a table holds the subject ids.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import math
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kg.core.errors import LoadError
from loaders._contract import LoadContext

__all__ = [
    "ID_COLUMNS",
    "MAX_LINE_BYTES",
    "Line",
    "Record",
    "TableRow",
    "cut_short",
    "find_subject_column",
    "finite_number",
    "first_long_line",
    "iter_lines",
    "iter_records",
    "iter_table",
    "limit_lines",
    "no_data_rows",
    "open_text",
    "read_lines",
]

ID_COLUMNS = (
    "case id", "caseid", "case", "case_id", "patientid", "patient id", "patient_id", "patient",
    "subject", "subject id", "subject_id", "subjectid", "participant", "participant id", "iid", "id",
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


MAX_LINE_BYTES = 8 * 1024 * 1024
"""The longest line a text reader accepts (8 MiB); a longer one is a ``LoadError`` naming it.
Below Oxigraph's 16 MiB line buffer, so no value read from a line overflows the N-Triples spool."""


def first_long_line(data: bytes, max_bytes: int = MAX_LINE_BYTES) -> int | None:
    """The number of the first line of ``data`` longer than ``max_bytes``, else ``None`` (no copies made).

    >>> first_long_line(b"ab\\ncdef\\ng", 3), first_long_line(b"ab\\ncd", 3)
    (2, None)
    """
    start, line = 0, 1
    while True:
        end = data.find(b"\n", start)
        stop = len(data) if end < 0 else end
        if stop - start > max_bytes:
            return line
        if end < 0:
            return None
        start, line = end + 1, line + 1


@dataclass(frozen=True)
class Line:
    """One line of a text file: its number, its text without the newline, and whether it had one."""

    number: int
    text: str
    terminated: bool


def read_lines(
    path: Path,
    context: LoadContext | None = None,
    *,
    encoding: str = "utf-8",
    max_bytes: int = MAX_LINE_BYTES,
) -> Iterator[Line]:
    """Yield every ``Line`` of a text file, gzip/bz2 or not.

    A line longer than ``max_bytes``, bad encoding and truncated archives raise
    ``LoadError`` with the line number; no line longer than ``max_bytes`` is ever held in memory.
    """
    lineno = 0
    with open_text(path, context) as handle:
        try:
            while True:
                raw = handle.readline(max_bytes + 1)
                if not raw:
                    break
                lineno += 1
                terminated = raw.endswith(b"\n")
                if len(raw) > max_bytes and not terminated:
                    raise LoadError(
                        path,
                        f"line longer than {max_bytes // (1024 * 1024)} MiB",
                        line=lineno,
                        hint="this is not a text table of this kind, or the line is corrupt; check the file and --kind",
                    )
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
                yield Line(lineno, text.rstrip("\r\n"), terminated)
        except (EOFError, zlib.error, OSError) as exc:
            if isinstance(exc, LoadError):
                raise
            raise LoadError(
                path,
                f"file is truncated or not a valid archive ({exc})",
                line=lineno + 1,
                hint="download the file again",
            ) from None
        except MemoryError:
            raise LoadError(path, "out of memory reading this line", line=lineno + 1, hint="check the file") from None


class _LineLimit(io.RawIOBase):
    """A binary reader that raises ``LoadError`` once a line exceeds ``max_bytes`` (for parsers that read blocks)."""

    def __init__(self, raw: IO[bytes], path: Path, max_bytes: int) -> None:
        self._raw = raw
        self._path = path
        self._max = max_bytes
        self._run = 0
        self._line = 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        last = data.rfind(b"\n")
        if last < 0:
            self._run += n
        else:
            self._line += data.count(b"\n")
            self._run = n - last - 1
        if self._run > self._max:
            raise LoadError(
                self._path, f"line longer than {self._max // (1024 * 1024)} MiB", line=self._line,
                hint="the line is corrupt or the file is not of this kind; check the file and --kind",
            )
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def limit_lines(handle: IO[bytes], path: Path, max_bytes: int = MAX_LINE_BYTES) -> IO[bytes]:
    """Wrap a binary file so that a line longer than ``max_bytes`` raises ``LoadError`` naming it,
    for parsers that read blocks themselves (Oxigraph's N-Triples / Turtle readers)."""
    return io.BufferedReader(_LineLimit(handle, path, max_bytes))


def iter_lines(
    path: Path,
    context: LoadContext | None = None,
    *,
    encoding: str = "utf-8",
) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text without newline)`` from a text file, gzip or not (see ``read_lines``)."""
    for line in read_lines(path, context, encoding=encoding):
        yield line.number, line.text


def cut_short(path: Path, line: Line | Record, fields: int, width: int) -> LoadError | None:
    """The error for a last record cut short (fewer than ``width`` fields and no final newline), else ``None``.

    >>> str(cut_short(Path("g.tsv"), Line(3, "1\tA", False), 2, 16))
    'g.tsv, line 3: the last record is cut short: 2 of 16 fields and no final newline (the file is incomplete: download it again)'
    """
    if fields < width and not line.terminated:
        return LoadError(
            path,
            f"the last record is cut short: {fields} of {width} fields and no final newline",
            line=line.number if isinstance(line, Line) else line.line,
            hint="the file is incomplete: download it again",
        )
    return None


def no_data_rows(path: Path, line: int, hint: str = "the file has a header only; a cut download? get it again") -> LoadError:
    """The error for a source whose header is followed by no data row."""
    return LoadError(path, "no data rows", line=line, hint=hint)


@dataclass(frozen=True)
class Record:
    """One delimited record: the line it starts on, its cells, and whether its last line ended with a newline."""

    line: int
    cells: list[str]
    terminated: bool


def iter_records(
    path: Path,
    context: LoadContext | None = None,
    *,
    delimiter: str = "\t",
    first_line: int = 1,
    comment: str | None = None,
) -> Iterator[Record]:
    """Yield the records of a CSV/TSV file from line ``first_line`` on, quoting understood.

    Comment lines (starting with ``comment``) are skipped; a csv error (an over-long field,
    a bad quote) is a ``LoadError`` naming the line.
    """
    state: dict[str, Any] = {"line": 0, "start": 0, "terminated": True}

    def numbered() -> Iterator[str]:
        for line in read_lines(path, context):
            if line.number < first_line or (comment and line.text.startswith(comment)):
                continue
            state["line"] = line.number
            state["terminated"] = line.terminated
            yield line.text.strip(" ") if blanks else line.text

    blanks = delimiter == " "  # blank-separated (PLINK, REGENIE): a run of blanks is one separator
    reader = csv.reader(numbered(), delimiter=delimiter, skipinitialspace=blanks)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LoadError(
                path, f"unreadable {'tab' if delimiter == chr(9) else repr(delimiter)}-separated record ({exc})",
                line=state["line"], hint="check the quoting and separator of this line",
            ) from None
        yield Record(state["line"], cells, state["terminated"])


def finite_number(text: str, path: Path, *, line: int | None = None, field: str | None = None) -> float | None:
    """``float(text)``, refusing a non-finite number (``inf``, ``-inf``, ``1e999``, ``Infinity``).

    NaN comes back as NaN (a missing value to the caller); text that is no number gives
    ``None`` for the caller to reject or refuse; a non-finite number is a ``LoadError``
    naming the file, line and column.

    >>> finite_number(" 2.5", Path("t.csv")), finite_number("T2a", Path("t.csv"))
    (2.5, None)
    >>> finite_number("1e999", Path("t.csv"), line=3, field="age")
    Traceback (most recent call last):
    ...
    kg.core.errors.LoadError: t.csv, line 3, field 'age': '1e999' is not a finite number (write a finite value, or leave the cell empty / NA for a missing one)
    """
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isinf(value):
        raise LoadError(
            path, f"{text.strip()!r} is not a finite number", line=line, field=field,
            hint="write a finite value, or leave the cell empty / NA for a missing one",
        )
    return value


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
    ragged: bool = False,
    allow_empty: bool = False,
) -> Iterator[TableRow]:
    """Yield the rows of a CSV/TSV file (gzip or not) as ``TableRow`` records.

    The header is line ``header_line`` (lines before it are skipped); ``required``
    columns must be in it, else ``LoadError`` names the missing ones and the columns
    found (which also catches a wrong separator). A row shorter or longer than the header
    is an error naming its line (with ``ragged`` short rows are padded with empty cells),
    and so is a last record cut short (fewer cells, no final newline) and a header with
    no data row after it (unless ``allow_empty``).
    """
    header: list[str] | None = None
    header_at = header_line
    rows = 0
    for record in iter_records(path, context, delimiter=delimiter, first_line=header_line, comment=comment):
        row, line = record.cells, record.line
        if header is None:
            header = [h.strip() for h in row]
            header_at = line
            seen_names: set[str] = set()
            for name in header:
                if name and name in seen_names:
                    raise LoadError(path, f"the column {name!r} appears twice in the header", line=line, field=name,
                                    hint="each column (feature, gene, variable) needs its own name; rename or drop the repeat")
                seen_names.add(name)
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
            truncated = cut_short(path, record, len(row), len(header))
            if truncated is not None:
                raise truncated
            if not ragged:
                raise LoadError(
                    path, f"{len(row)} cells but the header has {len(header)} columns", line=line,
                    hint="every row needs a cell for every column (empty for missing)",
                )
            row = row + [""] * (len(header) - len(row))
        rows += 1
        yield TableRow(line, dict(zip(header, row, strict=True)))
    if header is None:
        raise LoadError(path, "the file is empty", line=1, hint="expected a header row")
    if not rows and not allow_empty:
        raise no_data_rows(path, header_at + 1)
