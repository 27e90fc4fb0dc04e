"""The loader contract: how a source file becomes triples plus a load report.

A loader is a ``Loader`` record (kind, description, file-name patterns, a ``parse``
function) declared as ``LOADER`` in its own module under ``loaders/``; the registry in
``loaders/__init__.py`` collects them. ``parse(path, context, report)`` yields triples of
rdflib terms and fills ``report``; it never touches a store or the network. Fatal
problems raise ``kg.errors.LoadError`` naming file and line; the store then stays as it
was, because ``kg`` only commits a source after ``parse`` has finished.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from rdflib import URIRef
from rdflib.term import Node

from kg.errors import LoadError

__all__ = [
    "DEFAULT_INSTANCE_BASE",
    "LoadContext",
    "LoadReport",
    "Loader",
    "Rejection",
    "TableRow",
    "Triple",
    "iter_lines",
    "iter_table",
    "mint",
    "open_text",
]

Triple = tuple[Node, Node, Node]
"""One RDF triple of rdflib terms, as every loader yields them."""

DEFAULT_INSTANCE_BASE = "https://w3id.org/igkg/id/"
"""Where instance IRIs (subjects, studies, ROIs, measurements) are minted by default."""


def mint(base: str, kind: str, *parts: object) -> URIRef:
    """Mint a deterministic instance IRI from its kind and identifying parts.

    The same source data always gives the same IRI, so reloading a file or meeting the
    same subject id from another loader lands on the same node.

    >>> mint("https://w3id.org/igkg/id/", "subject", "R01-003")
    rdflib.term.URIRef('https://w3id.org/igkg/id/subject/R01-003')
    >>> mint("https://w3id.org/igkg/id/", "roi", "case 1", "GTV")
    rdflib.term.URIRef('https://w3id.org/igkg/id/roi/case%201/GTV')
    """
    if not parts:
        raise ValueError("mint needs at least one identifying part")
    tail = "/".join(quote(str(p), safe="-._~") for p in parts)
    return URIRef(f"{base}{kind}/{tail}")


@dataclass(frozen=True)
class Rejection:
    """A record a loader skipped, with where it was and why."""

    reason: str
    line: int | None = None
    record: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return (", ".join(where) + ": " if where else "") + self.reason


@dataclass
class LoadReport:
    """What one load did: records read, triples made, rejections and unmapped ids."""

    source: str
    kind: str
    records_read: int = 0
    triples: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    unmapped: dict[str, set[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    graph: str | None = None
    skipped: bool = False
    """True when the source was unchanged and the load was a no-op."""

    def reject(
        self,
        reason: str,
        *,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        """Record a skipped record with its reason."""
        self.rejected.append(Rejection(reason, line, record, field))

    def unmapped_id(self, namespace: str, identifier: str) -> None:
        """Record an identifier that did not map (e.g. a gene symbol absent from HGNC)."""
        self.unmapped.setdefault(namespace, set()).add(identifier)

    def note(self, text: str) -> None:
        """Record a remark the user should see (conflicts, defaults taken ...)."""
        self.notes.append(text)

    def summary(self) -> str:
        """One line for the CLI."""
        if self.skipped:
            return f"{self.source}: unchanged, nothing to do ({self.graph})"
        parts = [
            f"{self.records_read} records",
            f"{self.triples} triples",
            f"{len(self.rejected)} rejected",
        ]
        if self.unmapped:
            parts.append(
                "unmapped " + ", ".join(f"{k}: {len(v)}" for k, v in sorted(self.unmapped.items()))
            )
        return f"{self.source} [{self.kind}]: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the report."""
        return {
            "source": self.source,
            "kind": self.kind,
            "graph": self.graph,
            "skipped": self.skipped,
            "records_read": self.records_read,
            "triples": self.triples,
            "rejected": [str(r) for r in self.rejected],
            "unmapped": {k: sorted(v) for k, v in self.unmapped.items()},
            "notes": list(self.notes),
        }


@dataclass
class LoadContext:
    """What a loader may use besides its file: options, the IRI base, lookups, progress."""

    options: Mapping[str, Any] = field(default_factory=dict)
    base: str = DEFAULT_INSTANCE_BASE
    progress: Callable[[int], None] | None = None
    """Called with the number of bytes consumed since the last call (CLI progress bars)."""
    lookups: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    """Lazily built read-only helpers the store offers (e.g. ``"genes"`` -> gene resolver)."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def mint(self, kind: str, *parts: object) -> URIRef:
        """Mint an instance IRI under this context's base (see ``mint``)."""
        return mint(self.base, kind, *parts)

    def lookup(self, name: str) -> Any:
        """The helper registered under ``name``, built once on first use."""
        if name not in self._cache:
            if name not in self.lookups:
                raise KeyError(f"no lookup {name!r} offered to this load")
            self._cache[name] = self.lookups[name]()
        return self._cache[name]

    def option(self, name: str, default: Any = None) -> Any:
        """An option given on the CLI or to ``KnowledgeGraph.load`` (``--id-column`` -> ``id_column``)."""
        value = self.options.get(name)
        return default if value is None else value


ParseFunction = Callable[[Path, LoadContext, LoadReport], Iterable[Triple]]


@dataclass(frozen=True)
class Loader:
    """A registered loader: its kind, what it reads and the function that reads it."""

    kind: str
    description: str
    parse: ParseFunction
    patterns: tuple[str, ...] = ()
    """Lower-case ``fnmatch`` patterns on the file name that imply this kind."""
    version: str = "1"
    """Bump when the triples made from the same input change (forces a reload)."""
    accepts_directory: bool = False
    options: tuple[str, ...] = ()
    """Option names this loader reads (documentation and fingerprinting)."""
    fallback: bool = False
    """A generic kind (plain RDF) that yields when a specific kind's pattern also matches."""
    variant: Callable[[Path, Mapping[str, Any]], str] | None = None
    """For output that depends on settings beside the file (an extraction's parameter file):
    a short key that becomes part of the source key, so runs with other settings coexist."""
    inputs_digest: Callable[[Path, Mapping[str, Any]], str] | None = None
    """For output that depends on files the source names (the images of a manifest): a
    digest of them, part of the fingerprint, so a changed image forces a reload."""


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
