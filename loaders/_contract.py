"""The loader contract: how a source file becomes triples plus a load report.

A loader is a ``Loader`` record (kind, description, file-name patterns, a ``parse``
function) declared as ``LOADER`` in its own module under ``loaders/``; the registry in
``loaders/__init__.py`` collects them. ``parse(path, context, report)`` yields triples of
rdflib terms and fills ``report``; it never touches a store or the network. Fatal
problems raise ``kg.core.errors.LoadError`` naming file and line; the store then stays as it
was, because ``kg`` only commits a source after ``parse`` has finished.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rdflib import URIRef
from rdflib.term import Node

from kg.core.iris import DEFAULT_INSTANCE_BASE, mint

__all__ = [
    "MATRIX_KINDS",
    "VALUES_MODES",
    "LoadContext",
    "LoadReport",
    "Loader",
    "MatrixOpener",
    "MatrixSink",
    "ParseFunction",
    "Rejection",
    "Triple",
]

VALUES_MODES = ("rdf", "columnar", "both")
"""Where a load puts measured values: per-value triples, the columnar data plane, or both."""

MATRIX_KINDS = ("radiomics", "traits", "expression", "markers", "clinical", "genotypes", "gwas")
"""What a matrix holds (``kind`` of ``LoadContext.matrix``); ``igkg matrix --kind`` takes these.
``gwas``: summary statistics, one row per test (``igkg gwas`` runs and GWAS-SSF files)."""

Triple = tuple[Node, Node, Node]
"""One RDF triple of rdflib terms, as every loader yields them."""

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


class MatrixSink(Protocol):
    """Where a loader writes one matrix (subjects x variables); the store commits it with the graph.

    ``active`` is False when the load keeps values in the graph only (``values="rdf"``, or no
    data plane): the loader may then skip building frames. Errors (a bad cell, a repeated
    subject or variable, an empty column) raise ``LoadError`` naming file, line and column.
    """

    active: bool

    def write(self, frame: Any) -> None:
        """Add rows (wide layout): a pandas DataFrame with a ``subject`` column (the subject IRI),
        optional ``roi`` (ROI IRI) and ``replicate`` columns, and one column per declared variable
        (numbers, or text for variables declared categorical; NaN/None = missing)."""

    def write_variables(self, block: Any, names: Sequence[str] | None = None) -> None:
        """Add variables (``by-variable`` layout): variables x subjects (a DataFrame indexed by
        variable name with the declared subjects as columns, or an array with ``names``)."""


class MatrixOpener(Protocol):
    """What the store offers a load (``LoadContext.matrices``) to open matrix sinks."""

    def __call__(
        self,
        name: str,
        *,
        kind: str,
        variables: Mapping[str, str] | Sequence[str] | None,
        layout: str = "wide",
        categorical: Collection[str] = (),
        subjects: Sequence[str] | None = None,
        dtype: str | None = None,
        first_line: int | None = None,
    ) -> MatrixSink: ...


class _InactiveSink:
    """The sink of a load that keeps no columnar copy: accepts and discards."""

    active = False

    def write(self, frame: Any) -> None:
        """Discard ``frame``."""

    def write_variables(self, block: Any, names: Sequence[str] | None = None) -> None:
        """Discard ``block``."""


@dataclass
class LoadContext:
    """What a loader may use besides its file: options, the IRI base, lookups, progress."""

    options: Mapping[str, Any] = field(default_factory=dict)
    base: str = DEFAULT_INSTANCE_BASE
    progress: Callable[[int], None] | None = None
    """Called with the number of bytes consumed since the last call (CLI progress bars)."""
    lookups: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    """Lazily built read-only helpers the store offers (e.g. ``"genes"`` -> gene resolver)."""
    values: str = "rdf"
    """``rdf`` (per-value triples only; the default outside a store), ``columnar`` (the entity
    layer in the graph, values only in matrices) or ``both`` (``KnowledgeGraph.load``'s default)."""
    matrices: MatrixOpener | None = None
    """Offered by the store when the load writes matrices (see :meth:`matrix`)."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def values_in_graph(self) -> bool:
        """Whether the loader yields per-value triples (measurements, expression values ...)."""
        return self.values != "columnar"

    @property
    def columnar(self) -> bool:
        """Whether matrices written through :meth:`matrix` are kept."""
        return self.values != "rdf" and self.matrices is not None

    def matrix(
        self,
        name: str,
        *,
        kind: str,
        variables: Mapping[str, str] | Sequence[str] | None,
        layout: str = "wide",
        categorical: Collection[str] = (),
        subjects: Sequence[str] | None = None,
        dtype: str | None = None,
        first_line: int | None = None,
    ) -> MatrixSink:
        """A sink for one matrix of this source, committed atomically with its named graph.

        ``name`` tells the matrices of one source apart (``"features"``, ``"markers"``);
        ``kind`` is one of ``MATRIX_KINDS``; ``variables`` maps each variable as loaded
        (pyradiomics name, gene symbol, column header) to its IRI, in column order;
        ``categorical`` variables hold text (dictionary codes), the others float64.
        ``first_line`` is the file line of the first data row (for error messages).
        Inactive (discards) when the load keeps values in the graph only.
        """
        if kind not in MATRIX_KINDS:
            raise ValueError(f"matrix kind must be one of {', '.join(MATRIX_KINDS)}, not {kind!r}")
        if not self.columnar:
            return _InactiveSink()
        assert self.matrices is not None
        return self.matrices(
            name, kind=kind, variables=variables, layout=layout, categorical=categorical,
            subjects=subjects, dtype=dtype, first_line=first_line,
        )

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
    """Option names this loader reads; any other option given to a load is an error listing these."""
    fallback: bool = False
    """A generic kind (plain RDF) that yields when a specific kind's pattern also matches."""
    variant: Callable[[Path, Mapping[str, Any]], str] | None = None
    """For output that depends on settings beside the file (an extraction's parameter file):
    a short key that becomes part of the source key, so runs with other settings coexist."""
    inputs_digest: Callable[[Path, Mapping[str, Any]], str] | None = None
    """For output that depends on files the source names (the images of a manifest): a
    digest of them, part of the fingerprint, so a changed image forces a reload."""
    resolve: Callable[[Path], Path | None] | None = None
    """For inputs named by something other than one file (a PLINK prefix ``data/example`` for
    ``example.bed/.bim/.fam``): the file the path stands for, or None when it stands for none.
    The store calls it for a path that does not exist, before its existence check; the source's
    name, checksum and ``inputs_digest`` then use the resolved file."""
