"""The knowledge graph: an embedded Oxigraph store behind an rdflib edge.

Every source is loaded into its own named graph, whose IRI carries a fingerprint of the
input (file checksum, loader kind and version, options): named graphs are immutable
versions. A catalog graph records each version's provenance (PROV-O, DCAT, VoID). A load
writes the new version with Oxigraph's fast bulk path and then switches the catalog in
one transaction; a graph under ``GRAPH_BASE`` that the catalog does not list is the
remains of an interrupted load and is removed when the store is next opened for writing.
So a load is atomic: the store holds the old source or the new one, never a half.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pandas as pd
import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from rdflib.query import Result

from kg.errors import LoadError, QuerySyntaxError, StoreError
from kg.namespaces import DCAT, DCT, GRAPH_BASE, IGKG, PREFIXES, PROV, RDF, RDFS, VOID, XSD
from kg.terms import from_oxigraph, nt, to_oxigraph
from kg.version import __version__

__all__ = ["CATALOG_GRAPH", "DEFAULT_STORE", "KnowledgeGraph", "Stats", "store_location"]

logger = logging.getLogger(__name__)

CATALOG_GRAPH = GRAPH_BASE + "catalog"
"""The named graph holding one provenance record per loaded source version."""

DEFAULT_STORE = "./igkg-data"
"""Where the on-disk store lives when neither ``--store`` nor ``IGKG_STORE`` says."""

_EXPORT_FORMATS: dict[str, ox.RdfFormat] = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def store_location(value: str | os.PathLike[str] | None = None) -> str:
    """The store location: the argument, else ``IGKG_STORE``, else ``./igkg-data``."""
    if value is not None:
        return str(value)
    return os.environ.get("IGKG_STORE") or DEFAULT_STORE


@dataclass(frozen=True)
class Stats:
    """What the store holds: triples per graph (with its source), classes and totals."""

    graphs: pd.DataFrame
    classes: pd.DataFrame
    triples: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (also what ``igkg stats --format json`` prints)."""
        return {
            "triples": self.triples,
            "graphs": self.graphs.to_dict(orient="records"),
            "classes": self.classes.to_dict(orient="records"),
        }


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (names and contents, in name order)."""
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode())
            digest.update(_sha256_file(child).encode())
        return digest.hexdigest()
    return _sha256_file(path)


class KnowledgeGraph:
    """An igkg knowledge graph over an embedded Oxigraph store (on disk, or in memory).

    >>> kg = KnowledgeGraph(None)   # in memory
    >>> kg.query("ASK { ?s ?p ?o }")
    False
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> None:
        self.location = None if location in (None, ":memory:") else str(location)
        self.read_only = read_only
        self._store = self._open_store()
        self._dataset: Dataset | None = None
        if not read_only:
            self._recover()

    # ------------------------------------------------------------------ opening
    def _open_store(self) -> ox.Store:
        if self.location is None:
            if self.read_only:
                raise StoreError("an in-memory store cannot be opened read-only")
            return ox.Store()
        path = Path(self.location)
        try:
            if self.read_only:
                if not path.exists():
                    raise StoreError(f"no store at {path} (build one with 'igkg load')")
                return ox.Store.read_only(str(path))
            path.mkdir(parents=True, exist_ok=True)
            return ox.Store(str(path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"the store at {path} is in use by another igkg process "
                    "(a running 'igkg serve'?); stop it or use another --store"
                ) from None
            raise StoreError(f"cannot open the store at {path}: {exc}") from None

    def close(self) -> None:
        """Flush and release the store (the on-disk lock is released with it)."""
        if not self.read_only and self.location is not None:
            with contextlib.suppress(OSError):
                self._store.flush()
        self._dataset = None
        self._store = None  # type: ignore[assignment]

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def store(self) -> ox.Store:
        """The underlying pyoxigraph store (the hot path; read it, write through ``load``)."""
        return self._store

    @property
    def dataset(self) -> Dataset:
        """The rdflib view of the same store (oxrdflib), with the union as default graph."""
        if self._dataset is None:
            from oxrdflib import OxigraphStore

            self._dataset = Dataset(store=OxigraphStore(store=self._store), default_union=True)
            for prefix, uri in PREFIXES.items():
                self._dataset.bind(prefix, uri, override=True, replace=True)
        return self._dataset

    def _recover(self) -> None:
        """Remove graphs left by interrupted loads (managed but not in the catalog)."""
        catalogued = set(self._catalogued_graphs())
        for graph in list(self._store.named_graphs()):
            if not isinstance(graph, ox.NamedNode):
                continue
            iri = graph.value
            if iri.startswith(GRAPH_BASE) and iri != CATALOG_GRAPH and iri not in catalogued:
                logger.warning("removing %s, left by an interrupted load", iri)
                self._store.remove_graph(graph)

    def _catalogued_graphs(self) -> list[str]:
        rows = self._store.query(
            f"SELECT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g a <{IGKG.SourceGraph}> }} }}"
        )
        return [row["g"].value for row in rows]

    # ------------------------------------------------------------------ reading
    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Any] | None = None,
        *,
        union: bool = True,
    ) -> pd.DataFrame | bool | Graph:
        """Run SPARQL 1.1: SELECT -> DataFrame, ASK -> bool, CONSTRUCT/DESCRIBE -> rdflib Graph.

        ``bindings`` maps variable names to values (rdflib terms or Python values); they
        are bound by the engine, never pasted into the text. With ``union`` (the default)
        the default graph is the union of all named graphs.
        """
        result = self.raw_query(sparql, bindings, union=union)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        if isinstance(result, ox.QuerySolutions):
            return solutions_to_dataframe(result)
        graph = Graph()
        for prefix, uri in PREFIXES.items():
            graph.bind(prefix, uri)
        data = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
        if data:
            graph.parse(data=data.decode("utf-8"), format="nt")
        return graph

    def raw_query(
        self,
        sparql: str,
        bindings: Mapping[str, Any] | None = None,
        *,
        union: bool = True,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run SPARQL and return pyoxigraph's lazy result (the fast path for serialisers)."""
        sparql = bind_values(sparql, bindings)
        kwargs: dict[str, Any] = {"prefixes": PREFIXES}
        if default_graph is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = union
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from None

    def sparql(self, sparql: str, bindings: Mapping[str, Any] | None = None) -> Result:
        """Run SPARQL through rdflib's API (``initBindings``) and return an rdflib ``Result``."""
        from rdflib import Literal as RLiteral
        from rdflib.term import Identifier

        init = {k: v if isinstance(v, Identifier) else RLiteral(v) for k, v in (bindings or {}).items()}
        return self.dataset.query(sparql, initBindings=init, initNs=PREFIXES)

    def ask(self, name: str, **params: Any) -> pd.DataFrame | bool | Graph:
        """Run the named query ``name`` (``queries/<name>.rq``) with typed, engine-bound parameters.

        A thin wrapper over ``self.query`` (so every backend gets it); see ``kg.named_queries``.
        """
        from kg.named_queries import run_named_query

        return run_named_query(self, name, params)

    def to_networkx(self, construct: str | None = None, bindings: Mapping[str, Any] | None = None) -> Any:
        """A typed ``networkx.MultiDiGraph`` of the whole graph or of a CONSTRUCT query's result.

        A thin wrapper over ``self.query``; see ``kg.networkx_view.graph_to_networkx``.
        """
        from kg.networkx_view import subgraph

        return subgraph(self, construct, bindings)

    def graphs(self) -> pd.DataFrame:
        """The catalog: one row per loaded source (graph, source key, kind, file, checksum, triples, loaded)."""
        frame = self.query(
            f"""SELECT ?graph ?source ?kind ?file ?sha256 ?triples ?loaded WHERE {{
              GRAPH <{CATALOG_GRAPH}> {{
                ?graph a igkg:SourceGraph ; igkg:sourceKey ?source ; igkg:loaderKind ?kind ;
                       void:triples ?triples ; prov:generatedAtTime ?loaded .
                OPTIONAL {{ ?graph dct:source ?file }}
                OPTIONAL {{ ?graph prov:wasDerivedFrom/igkg:sha256 ?sha256 }}
              }} }} ORDER BY ?source"""
        )
        assert isinstance(frame, pd.DataFrame)
        return frame

    def stats(self) -> Stats:
        """Triples per named graph (with its source), instances per class, and the total."""
        per_graph = self.query(
            "SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph ORDER BY ?graph"
        )
        catalog = self.graphs()[["graph", "source", "kind"]]
        assert isinstance(per_graph, pd.DataFrame)
        graphs = per_graph.merge(catalog, on="graph", how="left")[["graph", "source", "kind", "triples"]]
        classes = self.query(
            "SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) WHERE { ?s a ?class } "
            "GROUP BY ?class ORDER BY DESC(?instances) ?class"
        )
        assert isinstance(classes, pd.DataFrame)
        total = int(graphs["triples"].sum()) if len(graphs) else 0
        default = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", union=False)
        assert isinstance(default, pd.DataFrame)
        total += int(default["n"].iloc[0])
        return Stats(graphs=graphs.fillna(""), classes=classes, triples=total)

    # ------------------------------------------------------------------ writing
    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")

    def load(
        self,
        path: str | os.PathLike[str],
        *,
        kind: str | None = None,
        progress: Callable[[int], None] | None = None,
        lookups: Mapping[str, Callable[[], Any]] | None = None,
        **options: Any,
    ) -> Any:
        """Load one source file (or folder) into its own named graph; returns its ``LoadReport``.

        The kind comes from ``kind`` or the file name. Unchanged sources are a no-op; a
        changed one replaces the previous version atomically.
        """
        from loaders import get_loader, infer_kind
        from loaders.base import LoadContext, LoadReport

        self._require_writable()
        source = Path(path)
        if not source.exists():
            raise LoadError(source, "file not found", hint="check the path")
        kind = kind or infer_kind(source)
        loader = get_loader(kind)
        if source.is_dir() and not loader.accepts_directory:
            raise LoadError(source, f"kind {kind!r} reads a file, not a folder")
        options = {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in options.items() if v is not None}
        sha = checksum(source)
        # A loader whose output also depends on files the source names (the images of an
        # extraction manifest, its settings file) may say so: ``variant`` becomes part of the
        # source key (runs with other settings coexist), ``inputs_digest`` of the fingerprint.
        variant_key = loader.variant(source, options) if loader.variant is not None else None
        inputs_digest = loader.inputs_digest
        fingerprint = hashlib.sha256(
            json.dumps(
                {"sha256": sha, "kind": kind, "version": loader.version, "options": _option_identity(options), "base": _instance_base(),
                 **({"variant": variant_key} if variant_key else {}),
                 **({"inputs": inputs_digest(source, options)} if inputs_digest is not None else {})},
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()
        key = f"{kind}/{source.name}" + (f"/{variant_key}" if variant_key else "")
        report = LoadReport(source=str(source), kind=kind)
        graph = graph_iri(key, fingerprint)
        report.graph = graph
        if self._current_graph(key) == graph:
            report.skipped = True
            logger.info("%s is unchanged; nothing to do", source)
            return report
        started = _now()
        context = LoadContext(
            options=options,
            base=_instance_base(),
            progress=progress,
            lookups={**self.lookups(), **(lookups or {})},
        )
        if kind == "rdf":
            self._load_rdf_native(source, graph, report)
        else:
            with _TripleSpool() as spool:
                spool.write_all(loader.parse(source, context, report), report)
                self._bulk_load(spool.path, graph)
        self._commit(
            key=key,
            graph=graph,
            kind=kind,
            loader_version=loader.version,
            fingerprint=fingerprint,
            report=report,
            started=started,
            file=source,
            sha=sha,
            options=options,
        )
        return report

    def ingest(
        self,
        key: str,
        triples: Iterable[Any],
        *,
        kind: str,
        parameters: Mapping[str, Any] | None = None,
        used: Iterable[str] = (),
        report: Any = None,
    ) -> Any:
        """Add triples made by igkg itself (e.g. an association run) as their own source graph.

        ``key`` names the source (``associations/<run id>``); the same key with other
        content replaces it. ``used`` lists IRIs (input graphs, files) for ``prov:used``.
        """
        from loaders.base import LoadReport

        self._require_writable()
        report = report or LoadReport(source=key, kind=kind)
        started = _now()
        with _TripleSpool() as spool:
            spool.write_all(triples, report)
            fingerprint = hashlib.sha256(
                (spool.digest() + json.dumps(parameters or {}, sort_keys=True, default=str)).encode()
            ).hexdigest()
            graph = graph_iri(key, fingerprint)
            report.graph = graph
            if self._current_graph(key) == graph:
                report.skipped = True
                return report
            self._bulk_load(spool.path, graph)
        self._commit(
            key=key,
            graph=graph,
            kind=kind,
            loader_version=__version__,
            fingerprint=fingerprint,
            report=report,
            started=started,
            file=None,
            sha=None,
            options=dict(parameters or {}),
            used=list(used),
        )
        return report

    def lookups(self) -> dict[str, Callable[[], Any]]:
        """Read-only helpers offered to loaders, built lazily from what the store holds."""
        found: dict[str, Callable[[], Any]] = {}
        with contextlib.suppress(ImportError):
            from kg.lookups import LOOKUPS

            for name, factory in LOOKUPS.items():
                found[name] = (lambda f: lambda: f(self))(factory)
        return found

    def _load_rdf_native(self, source: Path, graph: str, report: Any) -> None:
        from loaders.rdf import open_rdf, rdf_format, syntax_error

        fmt = rdf_format(source)
        target = ox.NamedNode(graph)
        try:
            if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
                with open_rdf(source) as handle:
                    self._store.bulk_extend(
                        ox.Quad(q.subject, q.predicate, q.object, target) for q in ox.parse(handle, fmt)
                    )
            else:
                with open_rdf(source) as handle:
                    self._store.bulk_load(handle, fmt, to_graph=target)
        except SyntaxError as exc:
            self._discard(graph)
            raise syntax_error(source, exc) from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            self._discard(graph)
            raise LoadError(source, f"the archive is truncated or corrupt ({exc})", hint="download the file again") from None
        except BaseException:
            self._discard(graph)
            raise
        count = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        report.triples = int(next(iter(count))["n"].value)
        report.records_read = report.triples

    def _bulk_load(self, path: Path, graph: str) -> None:
        self._discard(graph)
        try:
            self._store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
        except BaseException:
            self._discard(graph)
            raise

    def _discard(self, graph: str) -> None:
        node = ox.NamedNode(graph)
        if self._store.contains_named_graph(node):
            self._store.remove_graph(node)

    def _current_graph(self, key: str) -> str | None:
        rows = list(
            self._store.query(
                bind_values(
                    f"SELECT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{IGKG.sourceKey}> ?key }} }}",
                    {"key": key},
                )
            )
        )
        return rows[0]["g"].value if rows else None

    def _commit(
        self,
        *,
        key: str,
        graph: str,
        kind: str,
        loader_version: str,
        fingerprint: str,
        report: Any,
        started: str,
        file: Path | None,
        sha: str | None,
        options: Mapping[str, Any],
        used: list[str] | None = None,
    ) -> None:
        """Switch the catalog to the new graph in one transaction, then drop the old one."""
        old = self._current_graph(key)
        g = URIRef(graph)
        activity = URIRef(graph + "#load")
        triples: list[tuple[Any, Any, Any]] = [
            (g, RDF.type, IGKG.SourceGraph),
            (g, RDF.type, PROV.Entity),
            (g, RDF.type, VOID.Dataset),
            (g, RDFS.label, _lit(f"{kind}: {key.split('/', 1)[-1]}")),
            (g, IGKG.sourceKey, _lit(key)),
            (g, IGKG.loaderKind, _lit(kind)),
            (g, IGKG.fingerprint, _lit(fingerprint)),
            (g, VOID.triples, _lit(report.triples)),
            (g, IGKG.recordsRead, _lit(report.records_read)),
            (g, IGKG.recordsRejected, _lit(len(report.rejected))),
            (g, IGKG.unmappedIdentifiers, _lit(sum(len(v) for v in report.unmapped.values()))),
            (g, PROV.generatedAtTime, _lit(_now(), XSD.dateTime)),
            (g, PROV.wasGeneratedBy, activity),
            (activity, RDF.type, PROV.Activity),
            (activity, RDFS.label, _lit(f"igkg load of {key}")),
            (activity, PROV.startedAtTime, _lit(started, XSD.dateTime)),
            (activity, PROV.endedAtTime, _lit(_now(), XSD.dateTime)),
            (activity, IGKG.softwareVersion, _lit(f"igkg {__version__}")),
            (activity, IGKG.loaderVersion, _lit(loader_version)),
            (activity, IGKG.parameters, _lit(json.dumps(dict(options), sort_keys=True, default=str))),
        ]
        if file is not None:
            # The input as seen by this load: its own node, so dropping the graph drops it too.
            used_file = URIRef(graph + "#source")
            triples += [
                (g, PROV.wasDerivedFrom, used_file),
                (g, DCT.source, URIRef(file.resolve().as_uri())),
                (activity, PROV.used, used_file),
                (used_file, RDF.type, PROV.Entity),
                (used_file, RDF.type, DCAT.Distribution),
                (used_file, DCAT.accessURL, URIRef(file.resolve().as_uri())),
                (used_file, DCT.title, _lit(file.name)),
                (used_file, IGKG.sha256, _lit(sha or "")),
            ]
            if file.is_file():
                triples.append((used_file, DCAT.byteSize, _lit(file.stat().st_size)))
        for iri in used or []:
            triples.append((activity, PROV.used, URIRef(iri)))
        for predicate, obj in getattr(report, "provenance", []):
            triples.append((g, predicate, obj))
        body = "\n".join(f"{nt(s)} {nt(p)} {nt(o)} ." for s, p, o in triples)
        update = f"INSERT DATA {{ GRAPH <{CATALOG_GRAPH}> {{\n{body}\n}} }}"
        if old is not None:
            update = _delete_record(old) + " ;\n" + update
        self._store.update(update)
        if old is not None and old != graph:
            self._discard(old)
        if self.location is not None:
            self._store.flush()
        logger.info("loaded %s into %s (%d triples)", key, graph, report.triples)

    def drop(self, graph_or_source: str) -> int:
        """Remove a source's graph and its catalog record; returns the triples removed.

        Accepts the graph IRI or the source key (``hgnc/hgnc_complete_set.txt``) or a
        source file name when it names exactly one source.
        """
        self._require_writable()
        catalog = self.graphs()
        match = catalog[
            (catalog["graph"] == graph_or_source)
            | (catalog["source"] == graph_or_source)
            | (catalog["source"].str.split("/", n=1).str[-1] == graph_or_source)
        ]
        if len(match) == 0:
            node = ox.NamedNode(graph_or_source) if "://" in graph_or_source else None
            if node is not None and self._store.contains_named_graph(node):
                count = self._count(graph_or_source)
                self._store.remove_graph(node)
                return count
            raise StoreError(f"no graph or source {graph_or_source!r} in the store (see 'igkg stats')")
        if len(match) > 1:
            raise StoreError(f"{graph_or_source!r} names several sources: {', '.join(match['source'])}; give the full key")
        graph = str(match["graph"].iloc[0])
        count = self._count(graph)
        self._store.update(_delete_record(graph))
        self._discard(graph)
        if self.location is not None:
            self._store.flush()
        return count

    def _count(self, graph: str) -> int:
        rows = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)

    def update(self, sparql: str) -> None:
        """Run SPARQL 1.1 UPDATE (only the endpoint's token-guarded path and tests use this)."""
        self._require_writable()
        try:
            self._store.update(sparql, prefixes=PREFIXES)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from None

    def export(
        self,
        output: str | os.PathLike[str] | IO[bytes],
        *,
        format: str = "nquads",  # noqa: A002 - the CLI's word
        graph: str | None = None,
    ) -> None:
        """Write the store (or one graph) as N-Quads, TriG, Turtle, N-Triples or RDF/XML.

        Triple formats without ``graph`` write the union of all graphs.
        """
        try:
            fmt = _EXPORT_FORMATS[format]
        except KeyError:
            raise StoreError(f"unknown export format {format!r}; one of {', '.join(_EXPORT_FORMATS)}") from None
        target: Any = str(output) if isinstance(output, (str, os.PathLike)) else output
        if isinstance(target, str) and target.endswith(".gz"):
            with gzip.open(target, "wb") as handle:
                self.export(handle, format=format, graph=graph)
            return
        if graph is not None:
            self._store.dump(target, fmt, from_graph=ox.NamedNode(graph), prefixes=PREFIXES if fmt != ox.RdfFormat.N_TRIPLES else None)
        elif fmt.supports_datasets:
            self._store.dump(target, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        else:
            triples = self._store.query(
                "CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
            )
            ox.serialize(triples, target, fmt, prefixes=PREFIXES if fmt != ox.RdfFormat.N_TRIPLES else None)


def solutions_to_dataframe(solutions: ox.QuerySolutions) -> pd.DataFrame:
    """SELECT results as a DataFrame: IRIs and strings as text, numbers as numbers.

    Goes through Oxigraph's CSV writer and pandas' C parser, the fastest path measured.
    """
    columns = [v.value for v in solutions.variables]
    data = solutions.serialize(format=ox.QueryResultsFormat.CSV)
    if not data or data.count(b"\n") <= 1:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""], low_memory=False)


def bind_values(sparql: str, bindings: Mapping[str, Any] | None) -> str:
    """Bind variables by a trailing ``VALUES`` clause, each value written as an escaped RDF term.

    This is SPARQL's own parameter mechanism (the same as rdflib's ``initBindings``):
    a value can only ever be one RDF term, never query text.

    >>> bind_values("SELECT ?s WHERE { ?s rdfs:label ?l }", {"l": 'x" } UNION { ?a ?b ?c'})
    'SELECT ?s WHERE { ?s rdfs:label ?l }\\nVALUES (?l) { ("x\\\\" } UNION { ?a ?b ?c") }'
    """
    if not bindings:
        return sparql
    names = list(bindings)
    for name in names:
        if not name.isidentifier():
            raise QuerySyntaxError(f"not a SPARQL variable name: {name!r}")
    terms = []
    for name in names:
        value = bindings[name]
        terms.append("UNDEF" if value is None else nt(from_oxigraph(value) if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)) else _as_rdflib(value)))
    return f"{sparql}\nVALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms)}) }}"


def _as_rdflib(value: Any) -> Any:
    from rdflib import Literal
    from rdflib.term import Identifier

    if isinstance(value, Identifier):
        return value
    return from_oxigraph(to_oxigraph(value)) if not isinstance(value, str) else Literal(value)


def graph_iri(key: str, fingerprint: str) -> str:
    """The named-graph IRI of one version of a source."""
    return GRAPH_BASE + quote(key, safe="/-._~") + "/" + fingerprint[:16]


def _delete_record(graph: str) -> str:
    return (
        f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph}> ?p ?o }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph}#load> ?p2 ?o2 }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph}#source> ?p3 ?o3 }} }}"
    )


def _option_identity(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as they count for a source's identity: a file named by an option counts by
    its content, not its path, so the same data loaded from another folder is the same."""
    identity: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, str) and len(value) < 4096 and Path(value).is_file():
            identity[key] = {"sha256": _sha256_file(Path(value))}
        else:
            identity[key] = value
    return identity


def _instance_base() -> str:
    from loaders.base import DEFAULT_INSTANCE_BASE

    return os.environ.get("IGKG_BASE") or DEFAULT_INSTANCE_BASE


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _lit(value: Any, datatype: Any = None) -> Any:
    from rdflib import Literal

    return Literal(value, datatype=datatype) if datatype else Literal(value)


class _TripleSpool:
    """A temporary N-Triples file that loader output is written to before any store write."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="igkg-", suffix=".nt")
        os.close(handle)
        self.path = Path(name)
        self._digest = hashlib.sha256()

    def __enter__(self) -> _TripleSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    def write_all(self, triples: Iterable[Any], report: Any) -> None:
        count = 0
        with open(self.path, "w", encoding="utf-8", buffering=1 << 20) as out:
            lines: list[str] = []
            for s, p, o in triples:
                lines.append(f"{nt(s)} {nt(p)} {nt(o)} .\n")
                if len(lines) >= 10_000:
                    chunk = "".join(lines)
                    out.write(chunk)
                    self._digest.update(chunk.encode())
                    count += len(lines)
                    lines.clear()
            chunk = "".join(lines)
            out.write(chunk)
            self._digest.update(chunk.encode())
            count += len(lines)
        report.triples = count

    def digest(self) -> str:
        return self._digest.hexdigest()


def iter_chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most ``size`` items."""
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

