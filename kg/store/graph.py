"""The knowledge graph: an embedded Oxigraph store behind an rdflib edge.

Every source is loaded into its own named graph, whose IRI carries a fingerprint of the
input (file checksum, loader kind and version, options): named graphs are immutable
versions. A catalog graph records each version's provenance (PROV-O, DCAT, VoID). A load
writes the new version with Oxigraph's fast bulk path and then switches the catalog in
one transaction. A load first marks its new graph as pending in the catalog; the switch
removes the mark. A pending graph the catalog does not list (a load killed mid-way, an old
version or a dropped source not yet deleted) is hidden and deleted in small interruptible
chunks by recovery; no other graph is ever removed by it. So a load is atomic: the store
holds the old source or the new one, never a half.

A source is identified by its kind, its file name (or ``source_name``) and the folder it was
loaded from: a file of the same kind and name from another folder is a second source
(``<kind>/<name>~<path digest>``) unless ``replace=True`` says it replaces the first.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import itertools
import json
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd
import pyoxigraph as ox
from rdflib import Dataset, Graph
from rdflib.query import Result

from kg.core.errors import ConfigError, LoadError, QuerySyntaxError, StoreError
from kg.core.files import sha256, utc_now
from kg.core.namespaces import CATALOG_GRAPH, IGKG, PREFIXES
from kg.core.settings import Settings
from kg.core.version import __version__
from kg.query.binding import bind_values
from kg.query.prefixes import has_dataset_clause
from kg.query.results import solutions_to_dataframe, triples_to_graph
from kg.store.catalog import (
    CATALOG_QUERY,
    PENDING_GRAPH,
    SOURCE_VERSIONS_QUERY,
    SourceVersion,
    clear_pending,
    delete_record,
    graph_iri,
    mark_pending,
    pending_graphs_query,
    record_update,
    source_key_query,
)
from kg.store.export import export_store
from kg.store.spool import TripleSpool

if TYPE_CHECKING:  # loaders imports kg.core, whose package imports this module: no import at run time
    from loaders import LoadReport

__all__ = ["KnowledgeGraph", "Stats"]

logger = logging.getLogger(__name__)

_REMOVE_CHUNK = 5_000
"""Quads deleted per step when a graph is removed (each step is short, so Ctrl-C acts between them)."""
_OPEN_BUDGET = 3.0
"""Seconds an opening store spends deleting hidden leftovers; the rest goes at later writes."""
_LOAD_CHUNK = 100_000
"""Quads parsed and written per step of a native RDF load (Ctrl-C acts between steps)."""
_LOAD_BLOCK_BYTES = 8 << 20
"""Bytes of whole N-Triples lines handed to Oxigraph's bulk loader per step (about 65,000 triples, 0.2 s)."""
_DROP_BUDGET = 2.0
"""Seconds ``drop`` spends deleting the dropped graph before returning (it is hidden at once)."""
SPOOL_FOLDER = "spool"
"""The folder inside an on-disk store where loads spool their triples (cleared on recovery)."""


@dataclass(frozen=True)
class _Catalogued:
    """One catalogued version of a source, as ``load`` compares it with a new one."""

    graph: str
    key: str
    fingerprint: str
    input_fingerprint: str | None
    lookups: dict[str, str]
    path_digest: str | None
    file: str | None
    triples: int
    records: int


@dataclass(frozen=True)
class Stats:
    """What the store holds: triples per graph (with its source), classes and totals.

    >>> stats = KnowledgeGraph(None).stats()
    >>> stats.triples, len(stats.graphs)
    (0, 0)
    """

    graphs: pd.DataFrame
    classes: pd.DataFrame
    triples: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (also what ``igkg stats --format json`` prints).

        >>> KnowledgeGraph(None).stats().to_dict()
        {'triples': 0, 'graphs': [], 'classes': []}
        """
        return {
            "triples": self.triples,
            "graphs": self.graphs.to_dict(orient="records"),
            "classes": self.classes.to_dict(orient="records"),
        }


class KnowledgeGraph:
    """An igkg knowledge graph over an embedded Oxigraph store (on disk, or in memory).

    >>> kg = KnowledgeGraph(None)   # in memory
    >>> kg.query("ASK { ?s ?p ?o }")
    False
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        backend: Any = None,
    ) -> None:
        """Open (or create) the store at ``location`` (``None`` or ``":memory:"``: in memory).

        ``backend`` replaces the embedded Oxigraph store by another object with the same
        methods (``kg.store.remote.RemoteStore``: a SPARQL 1.1 server); such a store may be
        shared with other clients, so the remains of interrupted loads are then not removed
        on open (call ``recover()``).

        :raises StoreError: the store cannot be opened (locked by another process, missing when read-only).
        """
        self.location = None if location in (None, ":memory:") else str(location)
        self.read_only = read_only
        self._dataset: Dataset | None = None
        self._remote = backend is not None
        self._plane: Any = None
        self._memory_root: Any = None
        if backend is not None:
            self._store = backend
        else:
            self._store = _open_oxigraph(self.location, read_only)
            if not read_only:
                self.recover(budget=_OPEN_BUDGET)

    def close(self) -> None:
        """Flush and release the store (the on-disk lock, or a backend's connections, with it).

        Closing twice is harmless; ``with KnowledgeGraph(path) as kg:`` closes on leaving.

        >>> kg = KnowledgeGraph(None)
        >>> kg.close()
        >>> kg.store is None
        True
        """
        if self._store is None:
            return
        if not self.read_only and self.location is not None:
            with contextlib.suppress(OSError):
                self._store.flush()
        closer = getattr(self._store, "close", None)
        if closer is not None:
            closer()
        if self._plane is not None:
            self._plane.close()
            self._plane = None
        if self._memory_root is not None:
            self._memory_root.cleanup()
            self._memory_root = None
        self._dataset = None
        self._store = None

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def store(self) -> ox.Store:
        """The underlying pyoxigraph store (the hot path; read it, write through ``load``).

        >>> type(KnowledgeGraph(None).store).__name__
        'Store'
        """
        return self._store

    @property
    def dataset(self) -> Dataset:
        """The rdflib view of the same store (oxrdflib) showing what ``query`` shows: the default
        graph is the union of the data graphs, the named graphs are the data graphs and the
        catalog (``kg.store.rdflib_view.DataGraphsStore``).

        >>> len(KnowledgeGraph(None).dataset)
        0
        """
        if self._dataset is None:
            from kg.store.rdflib_view import DataGraphsStore

            self._dataset = Dataset(store=DataGraphsStore(self), default_union=True)
            for prefix, uri in PREFIXES.items():
                self._dataset.bind(prefix, uri, override=True, replace=True)
        return self._dataset

    def recover(self, *, budget: float | None = None) -> list[str]:
        """Delete what interrupted igkg loads and drops left behind; returns the graphs deleted.

        Only graphs carrying igkg's pending-load mark that the catalog does not list are
        deleted (a load killed before its catalog switch, an old version or a dropped source
        not yet deleted); a graph written by anyone else, even under igkg's graph space, is
        kept. Also clears the spool files of interrupted loads and the data plane's
        uncommitted files. ``budget`` bounds the seconds spent deleting (the rest stays hidden
        and goes next time); an embedded store does this with a few seconds whenever it is
        opened for writing.

        :raises StoreError: the store is open read-only.

        >>> KnowledgeGraph(None).recover()
        []
        """
        self._require_writable()
        removed = self._collect_garbage(budget)
        self._clear_spool()
        self._recover_matrices()
        return removed

    def _pending_graphs(self) -> list[str]:
        return [row["g"].value for row in self._store.query(pending_graphs_query()) if isinstance(row["g"], ox.NamedNode)]

    def _collect_garbage(self, budget: float | None) -> list[str]:
        """Delete pending, uncatalogued graphs (within ``budget`` seconds when given)."""
        pending = self._pending_graphs()
        if not pending:
            return []
        catalogued = set(self._catalogued_graphs())
        deadline = None if budget is None else time.monotonic() + budget
        removed = []
        for iri in pending:
            if iri in catalogued:  # committed: only the mark is left
                self._store.update(clear_pending(iri))
                continue
            logger.info("deleting %s (an interrupted load, an old version or a dropped source)", iri)
            if not self._remove_graph(iri, deadline):
                logger.info("%s is hidden; the rest of it is deleted at the next write", iri)
                break
            self._store.update(clear_pending(iri))
            removed.append(iri)
        return removed

    def _remove_graph(self, graph: str, deadline: float | None = None) -> bool:
        """Delete ``graph`` in short steps (Ctrl-C acts between them); False when ``deadline`` came first."""
        node = ox.NamedNode(graph)
        if not isinstance(self._store, ox.Store):  # a server drops a graph in one request
            if self._store.contains_named_graph(node):
                self._store.remove_graph(node)
            return True
        with _naming(self.location, "cannot delete a graph in the store at"):
            while True:
                chunk = list(itertools.islice(self._store.quads_for_pattern(None, None, None, node), _REMOVE_CHUNK))
                if not chunk:
                    break
                for quad in chunk:
                    self._store.remove(quad)
                if deadline is not None and time.monotonic() > deadline:
                    return False
            if self._store.contains_named_graph(node):
                self._store.remove_graph(node)
        return True

    def _spool_dir(self) -> Path | None:
        """``<store>/spool`` for an on-disk store (a killed load's spool is cleared on recovery)."""
        if self._remote or self.location is None:
            return None
        return Path(self.location) / SPOOL_FOLDER

    def _clear_spool(self) -> None:
        folder = self._spool_dir()
        if folder is None or not folder.is_dir():
            return
        for leftover in folder.glob("igkg-*"):
            logger.info("removing %s, the spool of an interrupted load", leftover)
            with contextlib.suppress(OSError):
                leftover.unlink()

    # ------------------------------------------------------------------ columnar data plane
    @property
    def data_plane(self) -> Any:
        """The ``kg.dataplane.DataPlane`` holding this store's matrices, or ``None`` when the
        store has none (a remote store without ``IGKG_COLUMNAR``); an in-memory store gets a
        temporary folder, removed on ``close``.

        >>> type(KnowledgeGraph(None).data_plane).__name__
        'DataPlane'
        """
        if self._plane is None:
            from kg.dataplane import DataPlane
            from kg.store.matrices import MemoryPlaneRoot, data_plane_root

            root = data_plane_root(self.location, remote=self._remote)
            if root is None and not self._remote:
                self._memory_root = MemoryPlaneRoot()
                root = self._memory_root.path
            if root is None:
                return None
            self._plane = DataPlane(root)
        return self._plane

    def _recover_matrices(self) -> None:
        from kg.store.matrices import data_plane_root, existing

        if existing(data_plane_root(self.location, remote=self._remote)) and self.data_plane is not None:
            report = self.data_plane.recover(keep=[f.path for f in self.matrix_files()])
            if not report.clean:
                logger.warning("columnar data plane recovered: %s", report)

    def matrix_files(self, kind: str | None = None, cohort: str | None = None) -> list[Any]:
        """The catalogued matrix files (``kg.dataplane.MatrixFile``), of ``kind`` when given
        (radiomics, traits, expression, markers, clinical, genotypes), of sources holding
        subjects of ``cohort`` (label or IRI) when given.

        >>> KnowledgeGraph(None).matrix_files(kind="radiomics")
        []
        """
        from kg.store.matrices import MATRIX_FILES_QUERY, records_from_frame

        frame = self.query(MATRIX_FILES_QUERY)
        assert isinstance(frame, pd.DataFrame)
        if kind is not None:
            frame = frame[frame["kind"] == kind]
        if cohort is not None and len(frame):
            graphs = self.query(
                "SELECT DISTINCT ?g ?c ?label WHERE { GRAPH ?g { ?s igkg:inCohort ?c } OPTIONAL { ?c rdfs:label ?label } }"
            )
            assert isinstance(graphs, pd.DataFrame)
            chosen = graphs[(graphs["c"] == cohort) | (graphs["label"] == cohort)] if len(graphs) else graphs
            frame = frame[frame["graph"].isin(set(chosen["g"]))]
        return records_from_frame(frame)

    def matrix_graphs(self, kind: str | None = None) -> dict[str, str]:
        """Matrix file path -> the source graph it belongs to (of ``kind`` when given).

        >>> import pathlib, tempfile
        >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
        >>> _ = table.write_text("Case ID,original_firstorder_Mean\\nP1,1.5\\nP2,2.5\\n")
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(table, kind="radiomics-csv")
        >>> [graph.split("/")[-3:-1] for graph in kg.matrix_graphs(kind="radiomics").values()]
        [['radiomics-csv', 'features.csv']]
        >>> kg.matrix_graphs(kind="genotypes")
        {}
        """
        from kg.store.matrices import MATRIX_FILES_QUERY

        frame = self.query(MATRIX_FILES_QUERY)
        assert isinstance(frame, pd.DataFrame)
        if kind is not None:
            frame = frame[frame["kind"] == kind]
        return dict(zip(frame["path"].astype(str), frame["graph"].astype(str), strict=True))

    def matrix(
        self,
        *,
        kind: str = "radiomics",
        cohort: str | None = None,
        features: str | list[str] | None = None,
        subjects: list[str] | None = None,
    ) -> pd.DataFrame:
        """The cohort matrix in one call: subjects x variables of ``kind`` from the data plane.

        The index is the subject IRI (with ``roi`` / ``replicate`` levels when a source has
        them); columns are the variables as loaded (pyradiomics name, gene symbol, header).
        ``features``: None (all), a list of names, or one glob (``"original_glcm_*"``);
        ``cohort`` (label or IRI) and ``subjects`` (IRIs) choose rows. Only what is asked is read.

        :raises StoreError: no matrix of ``kind`` in the store.
        :raises DataPlaneError: a listed feature or glob that no file has.
        :raises MatrixIntegrityError: a file missing or changed behind igkg's back.

        >>> import pathlib, tempfile
        >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
        >>> _ = table.write_text("Case ID,original_firstorder_Mean\\nP1,1.5\\nP2,2.5\\n")
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(table, kind="radiomics-csv")
        >>> kg.matrix(kind="radiomics", features="original_firstorder_*")["original_firstorder_Mean"].tolist()
        [1.5, 2.5]
        """
        files = self.matrix_files(kind=kind)
        if not files:
            known = sorted({f.kind for f in self.matrix_files()})
            raise StoreError(
                f"no {kind} matrix in the store (matrices: {', '.join(known) or 'none'}); "
                "load a source with --values columnar or both"
            )
        chosen = list(subjects) if subjects is not None else None
        if cohort is not None:
            members = self.cohort_subjects(cohort)
            chosen = members if chosen is None else [s for s in chosen if s in set(members)]
        return self.data_plane.matrix(files, variables=features, subjects=chosen)

    def cohort_subjects(self, cohort: str) -> list[str]:
        """The subject IRIs of a cohort named by label or IRI, sorted.

        :raises StoreError: no such cohort (the message lists those in the store).

        >>> import pathlib, tempfile
        >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
        >>> _ = table.write_text("Case ID,original_firstorder_Mean\\nP1,1.5\\nP2,2.5\\n")
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(table, kind="radiomics-csv", cohort="demo")
        >>> kg.cohort_subjects("demo")
        ['https://w3id.org/igkg/id/subject/P1', 'https://w3id.org/igkg/id/subject/P2']
        """
        frame = self.query(
            "SELECT DISTINCT ?subject ?c ?label WHERE { ?subject igkg:inCohort ?c . OPTIONAL { ?c rdfs:label ?label } }"
        )
        assert isinstance(frame, pd.DataFrame)
        chosen = frame[(frame["label"] == cohort) | (frame["c"] == cohort)] if len(frame) else frame
        if chosen.empty:
            known = sorted(set(frame["label"].dropna())) if len(frame) else []
            raise StoreError(f"no subjects in cohort {cohort!r}; cohorts in the store: {', '.join(known) or 'none'}")
        return sorted(set(chosen["subject"]))

    def _catalogued_graphs(self) -> list[str]:
        rows = self._store.query(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g a <{IGKG.SourceGraph}> }} }}"
        )
        return [row["g"].value for row in rows if isinstance(row["g"], ox.NamedNode)]

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
        the default graph is the union of the data graphs (``data_graphs()``: never igkg's
        catalog, which stays readable as ``GRAPH <https://w3id.org/igkg/graph/catalog>``,
        nor a graph an interrupted load left); without it, the store's own default graph.

        >>> KnowledgeGraph(None).query("SELECT * WHERE { }").shape
        (1, 0)
        """
        result = self.raw_query(sparql, bindings, union=union)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        if isinstance(result, ox.QuerySolutions):
            return solutions_to_dataframe(result)
        return triples_to_graph(result)

    def raw_query(
        self,
        sparql: str,
        bindings: Mapping[str, Any] | None = None,
        *,
        union: bool = True,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        own_dataset: bool | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run SPARQL and return pyoxigraph's lazy result (the fast path for serialisers).

        The dataset: ``default_graph``/``named_graphs`` when given; else the query's own
        ``FROM``/``FROM NAMED`` when it has them (``own_dataset``; found in the text when
        ``None``); else the default graph is the union of the data graphs (with ``union``)
        or the store's own default graph, and the named graphs are the data graphs and the
        catalog.

        :raises QuerySyntaxError: the text does not parse (the message has the position).

        >>> bool(KnowledgeGraph(None).raw_query("ASK { }"))
        True
        """
        sparql = bind_values(sparql, bindings)
        kwargs: dict[str, Any] = {"prefixes": PREFIXES}
        if not isinstance(self._store, ox.Store):  # a remote backend names the dataset itself
            if default_graph is not None:
                kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
            else:
                kwargs["use_default_graph_as_union"] = union
            if named_graphs is not None:
                kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        else:
            kwargs.update(self._dataset_options(sparql, union, default_graph, named_graphs, own_dataset))
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from None

    def _dataset_options(
        self,
        sparql: str,
        union: bool = True,
        default_graph: Sequence[Any] | None = None,
        named_graphs: Sequence[Any] | None = None,
        own_dataset: bool | None = None,
    ) -> dict[str, Any]:
        """The ``Store.query`` dataset arguments of ``raw_query`` on the embedded store (also
        the rdflib view's): graphs given as IRIs or pyoxigraph graph names."""
        if default_graph is None and named_graphs is None and (
            own_dataset if own_dataset is not None else has_dataset_clause(sparql)
        ):
            return {}  # FROM / FROM NAMED: Oxigraph takes the dataset from the query
        data = self._data_graph_nodes() if default_graph is None or named_graphs is None else []
        return {
            "default_graph": [_graph_node(g) for g in default_graph]
            if default_graph is not None
            else ([*data, ox.DefaultGraph()] if union else [ox.DefaultGraph()]),
            "named_graphs": [_graph_node(g) for g in named_graphs]
            if named_graphs is not None
            else [*data, ox.NamedNode(CATALOG_GRAPH)],
        }

    def data_graphs(self) -> list[str]:
        """The named graphs whose union is the default graph of every query.

        Every named graph (catalogued sources, and graphs written by SPARQL UPDATE, under
        igkg's graph space ``https://w3id.org/igkg/graph/`` or not) except the catalog and
        the graphs an igkg load or drop marked pending (a load in progress or interrupted, an
        old version or a dropped source being deleted). A read-only store cannot change, so
        it works this out once; a writable one at every query (a few catalog rows).

        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> 1 } }")
        >>> kg.data_graphs()
        ['urn:example:g']
        """
        return [node.value for node in self._data_graph_nodes() if isinstance(node, ox.NamedNode)]

    def _data_graph_nodes(self) -> list[Any]:
        cached = getattr(self, "_data_graph_cache", None)
        if cached is not None:
            return cached
        hidden = {CATALOG_GRAPH, PENDING_GRAPH, *self._pending_graphs()}
        nodes: list[Any] = []
        for graph in self._store.named_graphs():
            if isinstance(graph, ox.NamedNode) and graph.value in hidden:
                continue
            nodes.append(graph)
        nodes.sort(key=str)
        if self.read_only:
            self._data_graph_cache = nodes
        return nodes

    def sparql(self, sparql: str, bindings: Mapping[str, Any] | None = None) -> Result:
        """Run SPARQL through rdflib's API (``initBindings``) and return an rdflib ``Result``.

        >>> len(KnowledgeGraph(None).sparql("SELECT * WHERE { ?s ?p ?o }"))
        0
        """
        from rdflib import Literal as RLiteral
        from rdflib.term import Identifier

        init = {k: v if isinstance(v, Identifier) else RLiteral(v) for k, v in (bindings or {}).items()}
        return self.dataset.query(sparql, initBindings=init, initNs=PREFIXES)

    def ask(self, name: str, **params: Any) -> pd.DataFrame | bool | Graph:
        """Run the named query ``name`` (``queries/<name>.rq``) with typed, engine-bound parameters.

        A thin wrapper over ``self.query`` (so every backend gets it); see ``kg.query.named``.
        A query that reads measured values (``subjects_by_feature_and_marker``) also takes the
        values of sources loaded ``--values columnar`` from the data plane
        (``kg.store.columnar_queries``).

        :raises UnknownQuery: no such query, or a parameter it does not declare.

        >>> KnowledgeGraph(None).ask("features_for_gene", gene="EGFR").empty
        True
        """
        from kg.query.named import run_named_query
        from kg.store.columnar_queries import answer

        joined = answer(self, name, params)
        return joined if joined is not None else run_named_query(self, name, params)

    def to_networkx(self, construct: str | None = None, bindings: Mapping[str, Any] | None = None) -> Any:
        """A typed ``networkx.MultiDiGraph`` of the whole graph or of a CONSTRUCT query's result.

        A thin wrapper over ``self.query``; see ``kg.views.networkx.subgraph``.

        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> kg.to_networkx().number_of_edges()
        1
        """
        from kg.views.networkx import subgraph

        return subgraph(self, construct, bindings)

    def graphs(self) -> pd.DataFrame:
        """The catalog: one row per loaded source (graph, source key, kind, file, checksum, triples, loaded).

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "facts.nt"
        >>> _ = path.write_text('<urn:example:a> <urn:example:b> "c" .\\n')
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(path)
        >>> kg.graphs()[["source", "kind", "triples"]].values.tolist()
        [['rdf/facts.nt', 'rdf', 1]]
        """
        frame = self.query(CATALOG_QUERY)
        assert isinstance(frame, pd.DataFrame)
        return frame

    def stats(self) -> Stats:
        """Triples per named graph (with its source), instances per class, and the total.

        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> a <urn:example:Gene> } }")
        >>> kg.stats().classes.values.tolist()
        [['urn:example:Gene', 1]]
        """
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
        values: str = "both",
        replace: bool = False,
        source_name: str | None = None,
        **options: Any,
    ) -> LoadReport:
        """Load one source file (or folder) into its own named graph; returns its ``LoadReport``.

        A source is its kind plus its file name (or ``source_name``) plus the folder it comes
        from. Loading the same path again replaces its version; a file of that kind and name
        from another folder becomes a second source (key ``<kind>/<name>~<path digest>``)
        unless ``replace`` (the user means it) or the same ``source_name`` says it replaces
        the first. A new version with fewer than half the records of the one it replaces is
        refused unless ``replace``. The report's notes say what was replaced. The version
        fingerprint covers the content of the lookups the mapping used (the genes loaded),
        so a reload after they changed re-maps.

        ``values`` says where measured values go: ``both`` (per-value triples and the columnar
        data plane), ``rdf`` (triples only) or ``columnar`` (the entity layer in the graph,
        values only in Parquet matrices). Matrices are committed with the graph, atomically.

        The kind comes from ``kind`` or the file name. Unchanged sources are a no-op; a
        changed one replaces the previous version atomically. ``options`` are the loader's
        own (``Loader.options``); ``None`` values count as not given.

        :raises LoadError: the file is missing or unreadable, its content is wrong, or it would
            shrink its source by more than half without ``replace`` (the store is unchanged).
        :raises ConfigError: an option the loader does not declare (the message lists those it does).
        :raises StoreError: the store is open read-only.

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "facts.nt"
        >>> _ = path.write_text('<urn:example:a> <urn:example:b> "c" .\\n')
        >>> kg = KnowledgeGraph(None)
        >>> report = kg.load(path)          # the kind (rdf) from the file name
        >>> report.kind, report.triples, report.skipped
        ('rdf', 1, False)
        >>> kg.load(path).skipped          # unchanged: nothing to do
        True
        """
        from loaders import LoadContext, LoadReport, get_loader, infer_kind, resolve_source

        self._require_writable()
        values = requested = _values_mode(values)
        if values != "rdf" and self.data_plane is None:
            if values == "columnar":
                raise ConfigError("this remote store has no columnar folder: set IGKG_COLUMNAR, or load with --values rdf")
            values = "rdf"  # a remote store without IGKG_COLUMNAR: the values stay in the graph
        # A path a loader resolves (a PLINK prefix -> its .bed) is that file from here on:
        # name, checksum and inputs digest are the resolved file's.
        source, kind = resolve_source(Path(path), kind)
        if not source.exists():
            raise LoadError(source, "file not found", hint="check the path")
        loader = get_loader(kind or infer_kind(source))
        kind = loader.kind
        if source.is_dir() and not loader.accepts_directory:
            raise LoadError(source, f"kind {kind!r} reads a file, not a folder")
        options = {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in options.items() if v is not None}
        unknown = sorted(set(options) - set(loader.options))
        if unknown:
            known = ", ".join(loader.options) or "none"
            raise ConfigError(f"kind {kind!r} has no option {', '.join(map(repr, unknown))}; its options: {known}")
        sha = sha256(source)
        base = Settings.from_env().base
        # A loader whose output also depends on files the source names (the images of an
        # extraction manifest, its settings file) may say so: ``variant`` becomes part of the
        # source key (runs with other settings coexist), ``inputs_digest`` of the fingerprint.
        variant_key = loader.variant(source, options) if loader.variant is not None else None
        inputs_digest = loader.inputs_digest
        input_fingerprint = hashlib.sha256(
            json.dumps(
                {"sha256": sha, "kind": kind, "version": loader.version, "options": _option_identity(options), "base": base,
                 "values": requested,  # as asked: the same source gets the same graph IRI on any back end
                 **({"variant": variant_key} if variant_key else {}),
                 **({"inputs": inputs_digest(source, options)} if inputs_digest is not None else {})},
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()
        name = source.name if source_name is None else str(source_name).strip()
        if not name or "/" in name or "~" in name:
            raise ConfigError(f"a source name is one word without '/' or '~', not {source_name!r}")
        base_key = f"{kind}/{name}" + (f"/{variant_key}" if variant_key else "")
        path_digest = _path_digest(source)
        versions = self._source_versions(base_key)
        key, old = _choose_version(
            versions, base_key, path_digest, source.resolve().as_uri(), named=source_name is not None, replace=replace
        )
        report = LoadReport(source=str(source), kind=kind)
        for version in [old] if old is not None else versions:
            if self._is_current(version, input_fingerprint):
                report.graph = version.graph
                report.skipped = True
                if version.key != key:
                    report.note(f"the same content is already loaded as {version.key} (from another folder)")
                logger.info("%s is unchanged; nothing to do", source)
                return report
        if old is None and key != base_key:
            report.note(
                f"another {name} of kind {kind} (from another folder) is loaded as {base_key}; this one is kept "
                f"beside it as {key} (give --replace to replace {base_key} instead)"
            )
        started = utc_now()
        clock = time.monotonic()
        fingerprint = input_fingerprint
        graph = graph_iri(key, fingerprint)
        report.graph = graph
        # A re-map (same input, other lookups) must not reuse the old version's matrix file names.
        remap = old is not None and old.input_fingerprint == input_fingerprint
        matrix_version = hashlib.sha256((input_fingerprint + started).encode()).hexdigest() if remap else fingerprint
        session = self._matrix_session(key, graph_iri(key, matrix_version), source) if values != "rdf" else None
        used: dict[str, str] = {}
        context = LoadContext(
            options=options,
            base=base,
            progress=progress,
            lookups={**self._tracked_lookups(used, key), **(lookups or {})},
            values=values,
            matrices=session,
        )
        try:
            if kind == "rdf":
                self._load_rdf_native(source, graph, report)
                self._refuse_shrink(source, report, old, replace)
            else:
                with TripleSpool(self._spool_dir()) as spool:
                    spool.write_all(loader.parse(source, context, report), report)
                    fingerprint = _with_lookups(input_fingerprint, used)
                    graph = graph_iri(key, fingerprint)
                    report.graph = graph
                    if old is not None and old.graph == graph:  # the lookups were as before after all
                        if session is not None:
                            session.abort()
                        report.skipped = True
                        return report
                    self._refuse_shrink(source, report, old, replace)
                    self._bulk_load(spool.path, graph)
            matrices = tuple(session.prepare()) if session is not None else ()
            if old is not None:
                moved = "" if old.path_digest in (None, path_digest) else ", from another folder"
                report.note(f"replaces {old.key} ({old.records} records, {old.triples} triples{moved}; {old.graph})")
            self._commit(
                SourceVersion(
                    key=key, graph=graph, kind=kind, loader_version=loader.version, fingerprint=fingerprint,
                    report=report, started=started, file=source, sha=sha, options={**options, "values": values},
                    matrices=matrices, input_fingerprint=input_fingerprint, lookup_digests=used, path_digest=path_digest,
                ),
                session,
                since=clock,
            )
        except BaseException as exc:
            if session is not None:
                session.abort()
            self._discard_uncommitted(graph)
            if isinstance(exc, OSError) and not isinstance(exc, StoreError) and not getattr(exc, "filename", None):
                # e.g. Oxigraph's bare "No such file or directory (os error 2)": say which files
                where = self.location or "memory"
                raise StoreError(f"loading {source} into the store at {where} failed: {exc}") from exc
            raise
        for record in matrices:
            report.note(f"{record.kind} matrix {record.name!r}: {record.rows} x {record.columns} -> {record.path}")
        return report

    def _matrix_session(self, key: str, graph: str, origin: Path | None) -> Any:
        from kg.store.matrices import MatrixSession

        return MatrixSession(self.data_plane, key, graph.rsplit("/", 1)[-1], origin=origin)

    def _discard_uncommitted(self, graph: str) -> None:
        """Delete ``graph`` after a failed load unless the catalog already lists it: at most a few
        seconds' worth (so Ctrl-C acts at once); the rest stays hidden, marked for recovery."""
        try:
            if graph not in set(self._catalogued_graphs()):
                self._discard(graph, budget=_DROP_BUDGET)
        except BaseException as exc:  # noqa: BLE001 - cleanup after a failure; recovery finishes it
            logger.warning("could not delete %s after a failed load (recovery will): %s", graph, exc)

    def _source_versions(self, base_key: str) -> list[_Catalogued]:
        """The catalogued versions of ``base_key`` and of its other-folder variants."""
        found = []
        for row in self._store.query(SOURCE_VERSIONS_QUERY):
            if row["key"].value != base_key and not row["key"].value.startswith(base_key + "~"):
                continue
            lookups = row["lookups"]
            found.append(
                _Catalogued(
                    graph=row["g"].value,
                    key=row["key"].value,
                    fingerprint=row["fingerprint"].value,
                    input_fingerprint=row["input"].value if row["input"] is not None else None,
                    lookups=json.loads(lookups.value) if lookups is not None else {},
                    path_digest=row["path"].value if row["path"] is not None else None,
                    file=row["file"].value if row["file"] is not None else None,
                    triples=int(row["triples"].value),
                    records=int(row["records"].value) if row["records"] is not None else int(row["triples"].value),
                )
            )
        return found

    def _is_current(self, version: _Catalogued, input_fingerprint: str) -> bool:
        """Whether ``version`` is what loading this input now would make (same input, same lookups)."""
        if version.input_fingerprint is None:  # catalogued before lookups counted
            return version.graph == graph_iri(version.key, input_fingerprint)
        if version.input_fingerprint != input_fingerprint:
            return False
        from kg.store.lookups import LOOKUP_DIGESTS

        own = graph_iri(version.key, "")
        now = {name: LOOKUP_DIGESTS[name](self, own) for name in version.lookups if name in LOOKUP_DIGESTS}
        return version.graph == graph_iri(version.key, _with_lookups(input_fingerprint, now))

    def _tracked_lookups(self, used: dict[str, str], key: str) -> dict[str, Callable[[], Any]]:
        """The store's lookups; building one records the digest of its content in ``used``."""
        from kg.store.lookups import LOOKUP_DIGESTS

        own = graph_iri(key, "")

        def tracked(name: str, factory: Callable[[], Any]) -> Callable[[], Any]:
            def build() -> Any:
                if name in LOOKUP_DIGESTS:
                    used[name] = LOOKUP_DIGESTS[name](self, own)
                return factory()

            return build

        return {name: tracked(name, factory) for name, factory in self.lookups().items()}

    @staticmethod
    def _refuse_shrink(source: Path, report: Any, old: _Catalogued | None, replace: bool) -> None:
        """Refuse a new version with fewer than half the records of the one it replaces (unless ``replace``)."""
        if old is None or replace:
            return
        new = report.records_read
        if new * 2 < old.records:
            raise LoadError(
                source,
                f"has {new} records where the version it would replace ({old.key}) has {old.records}: "
                "less than half, so it is not loaded (the store is unchanged)",
                hint="check the file is complete; give --replace to replace the source anyway",
            )

    def ingest(
        self,
        key: str,
        triples: Iterable[Any],
        *,
        kind: str,
        parameters: Mapping[str, Any] | None = None,
        used: Iterable[str] = (),
        report: Any = None,
        tables: Mapping[str, tuple[Any, ...]] | None = None,
        generated_by: str | None = None,
    ) -> LoadReport:
        """Add triples made by igkg itself (e.g. an association run) as their own source graph.

        ``key`` names the source (``associations/<run id>``); the same key with other
        content replaces it. ``used`` lists IRIs (input graphs, files) for ``prov:used``.
        ``tables`` maps a name to ``(kind, frame)`` or ``(kind, frame, {column: IRI})``: whole
        tables (a ``subject`` column naming each row; a Parquet file path is copied row group by
        row group and hashed as bytes) kept as Parquet in the data plane and
        listed as the graph's distributions, made (``prov:wasGeneratedBy``) by ``generated_by``
        (an analysis run's IRI) when given. Returns the ``LoadReport``.

        :raises StoreError: the store is open read-only.

        >>> from rdflib import URIRef
        >>> kg = KnowledgeGraph(None)
        >>> triple = (URIRef("urn:example:run"), URIRef("urn:example:used"), URIRef("urn:example:file"))
        >>> kg.ingest("associations/demo", [triple], kind="association-run").triples
        1
        """
        from loaders import LoadReport

        self._require_writable()
        report = report or LoadReport(source=key, kind=kind)
        started = utc_now()
        with TripleSpool(self._spool_dir()) as spool:
            spool.write_all(triples, report)
            table_digest = "".join(
                f"{name}:{table[0]}:{_table_digest(table[1])}" for name, table in sorted((tables or {}).items())
            )
            fingerprint = hashlib.sha256(
                (spool.digest() + json.dumps(parameters or {}, sort_keys=True, default=str) + table_digest).encode()
            ).hexdigest()
            graph = graph_iri(key, fingerprint)
            report.graph = graph
            if self._current_graph(key) == graph:
                report.skipped = True
                return report
            session = self._matrix_session(key, graph, None) if tables and self.data_plane is not None else None
            try:
                for name, table in (tables or {}).items():
                    if session is not None:
                        session.add_table(name, table[1], kind=table[0], variables=table[2] if len(table) > 2 else None)
                matrices = tuple(session.prepare()) if session is not None else ()
                self._bulk_load(spool.path, graph)
                self._commit(
                    SourceVersion(
                        key=key, graph=graph, kind=kind, loader_version=__version__, fingerprint=fingerprint,
                        report=report, started=started, options=dict(parameters or {}), used=tuple(used),
                        matrices=matrices, matrices_generated_by=generated_by,
                    ),
                    session,
                )
            except BaseException:
                if session is not None:
                    session.abort()
                self._discard_uncommitted(graph)
                raise
        return report

    def lookups(self) -> dict[str, Callable[[], Any]]:
        """Read-only helpers offered to loaders, built lazily from what the store holds.

        >>> sorted(KnowledgeGraph(None).lookups())
        ['genes', 'ontology-terms']
        """
        found: dict[str, Callable[[], Any]] = {}
        from kg.store.lookups import LOOKUPS

        for name, factory in LOOKUPS.items():
            found[name] = (lambda f: lambda: f(self))(factory)
        return found

    def _load_rdf_native(self, source: Path, graph: str, report: Any) -> None:
        """Parse an RDF file straight into ``graph`` in chunks (so Ctrl-C acts between them)."""
        from loaders.rdf import open_rdf, rdf_format, syntax_error

        fmt = rdf_format(source)
        target = ox.NamedNode(graph)
        self._begin(graph)
        try:
            with _naming(source, "cannot read"):
                loaded = False
                if fmt == ox.RdfFormat.N_TRIPLES:
                    try:
                        with open_rdf(source, limit=False) as handle:
                            loaded = self._bulk_load_lines(handle, target)
                    except (SyntaxError, LoadError):  # parsed again by triples: the error names the line
                        loaded = False
                    if not loaded:
                        self._begin(graph)  # empties what the block loads wrote
                if not loaded:
                    with open_rdf(source) as handle:
                        self._extend_in_chunks(ox.parse(handle, fmt), target)
        except SyntaxError as exc:
            self._discard(graph, budget=_DROP_BUDGET)
            raise syntax_error(source, exc) from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            self._discard(graph, budget=_DROP_BUDGET)
            raise LoadError(source, f"the archive is truncated or corrupt ({exc})", hint="download the file again") from None
        except BaseException:
            self._discard(graph, budget=_DROP_BUDGET)
            raise
        count = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        report.triples = int(next(iter(count))["n"].value)
        report.records_read = report.triples

    def _begin(self, graph: str) -> None:
        """Mark ``graph`` as being written by an igkg load (deleted by recovery if never catalogued)."""
        self._discard(graph)
        with _naming(self.location, "cannot write to the store at"):
            self._store.update(mark_pending(graph, utc_now()))

    def _bulk_load_lines(self, handle: Any, target: ox.NamedNode) -> bool:
        """Bulk-load N-Triples into ``target`` by Oxigraph's own parser, a block of whole lines at
        a time (Ctrl-C acts between blocks). ``False``, at once, for a block holding ``_:``: a file
        with blank nodes goes through ``_extend_in_chunks`` (each block load renames its blank
        nodes, so one node would split); the caller empties ``target`` and starts over.

        :raises SyntaxError: a block does not parse (the caller parses again, by triples, to name the line).
        :raises LoadError: a line longer than the longest accepted (the same).
        """
        rest = b""
        while True:
            block = handle.read(_LOAD_BLOCK_BYTES)
            if not block:
                break
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if b"_:" in data[:cut]:
                return False
            if cut == 0:
                if len(data) > 2 * _LOAD_BLOCK_BYTES:  # a line this long: the by-triples reader names it
                    raise LoadError(str(getattr(handle, "name", "?")), "a line is too long")
                rest = data
                continue
            self._store.bulk_load(input=data[:cut], format=ox.RdfFormat.N_TRIPLES, to_graph=target)
            rest = data[cut:]
        if rest.strip():
            if b"_:" in rest:
                return False
            self._store.bulk_load(input=rest, format=ox.RdfFormat.N_TRIPLES, to_graph=target)
        return True

    def _extend_in_chunks(self, quads: Iterable[Any], target: ox.NamedNode) -> None:
        """Bulk-write parsed quads into ``target`` in steps of ``_LOAD_CHUNK`` (Ctrl-C acts between them)."""
        quads = iter(quads)
        while True:
            chunk = [ox.Quad(q.subject, q.predicate, q.object, target) for q in itertools.islice(quads, _LOAD_CHUNK)]
            if not chunk:
                break
            self._store.bulk_extend(chunk)

    def _bulk_load(self, path: Path, graph: str) -> None:
        """Write the spool file ``path`` into a new pending ``graph`` (in interruptible steps)."""
        self._begin(graph)
        try:
            with _naming(path, "cannot bulk-load the spool file"):
                if self._remote:
                    self._store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
                else:
                    with open(path, "rb") as handle:
                        loaded = self._bulk_load_lines(handle, ox.NamedNode(graph))
                    if not loaded:  # blank nodes: by triples, one parse
                        self._begin(graph)
                        with open(path, "rb") as handle:
                            self._extend_in_chunks(ox.parse(handle, ox.RdfFormat.N_TRIPLES), ox.NamedNode(graph))
        except BaseException:
            self._discard(graph, budget=_DROP_BUDGET)
            raise

    def _discard(self, graph: str, *, budget: float | None = None) -> None:
        """Delete an uncommitted ``graph`` and its pending mark; with ``budget``, what is left
        after that many seconds stays marked (hidden) for recovery."""
        node = ox.NamedNode(graph)
        if self._store.contains_named_graph(node):
            deadline = None if budget is None else time.monotonic() + budget
            if not self._remove_graph(graph, deadline):
                return
        self._store.update(clear_pending(graph))

    def _current_graph(self, key: str) -> str | None:
        rows = list(
            self._store.query(
                bind_values(source_key_query(), {"key": key})
            )
        )
        return rows[0]["g"].value if rows else None

    def _commit(self, version: SourceVersion, session: Any = None, *, since: float | None = None) -> None:
        """Switch the catalog to the new graph (and its matrix files) in one transaction, then
        move the new files into place and drop the old graph and its files.

        The old graph is hidden by the switch; deleting it takes at most as long again as the
        load took since ``since`` (``time.monotonic()``; a few seconds at least), the rest
        goes at later writes."""
        key, graph, report = version.key, version.graph, version.report
        old = self._current_graph(key)
        old_files = self._graph_matrix_files(old) if old is not None and old != graph else []
        update = clear_pending(graph) + " ;\n" + record_update(version)
        if old is not None:
            # The old version is hidden at once (pending, uncatalogued) and deleted below.
            update = delete_record(old) + " ;\n" + mark_pending(old, utc_now()) + " ;\n" + update
        with _naming(self.location, "cannot commit to the store at"):
            self._store.update(update)
        if session is not None:
            session.finalise()
        if old_files:
            self.data_plane.drop(old_files)
        if self.location is not None:
            with _naming(self.location, "cannot flush the store at"):
                self._store.flush()
        logger.info("loaded %s into %s (%d triples)", key, graph, report.triples)
        if old is not None and old != graph:
            # hidden already; Ctrl-C here, or the budget running out, leaves the rest to recovery
            spent = time.monotonic() - since if since is not None else 0.0
            self._delete_hidden(old, max(_OPEN_BUDGET, spent))

    def drop(self, graph_or_source: str) -> int:
        """Remove a source's graph and its catalog record; returns the triples removed.

        Accepts the graph IRI or the source key (``hgnc/hgnc_complete_set.txt``) or a
        source file name when it names exactly one source.

        :raises StoreError: the store is open read-only, or no source (or more than one) matches.

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "facts.nt"
        >>> _ = path.write_text('<urn:example:a> <urn:example:b> "c" .\\n')
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(path)
        >>> kg.drop("facts.nt"), len(kg.graphs())
        (1, 0)
        """
        self._require_writable()
        catalog = self.graphs()
        match = catalog[
            (catalog["graph"] == graph_or_source)
            | (catalog["source"] == graph_or_source)
            | (catalog["source"].str.split("/", n=1).str[-1].str.split("~", n=1).str[0] == graph_or_source)
        ]
        if len(match) == 0:
            node = ox.NamedNode(graph_or_source) if "://" in graph_or_source else None
            if node is not None and self._store.contains_named_graph(node):
                count = self._count(graph_or_source)
                self._remove_graph(graph_or_source)
                return count
            raise StoreError(f"no graph or source {graph_or_source!r} in the store (see 'igkg stats')")
        if len(match) > 1:
            raise StoreError(f"{graph_or_source!r} names several sources: {', '.join(match['source'])}; give the full key")
        graph = str(match["graph"].iloc[0])
        count = int(match["triples"].iloc[0])
        files = self._graph_matrix_files(graph)
        # One transaction hides the graph (catalog record gone, pending mark set); its triples
        # are then deleted in short steps for a few seconds, the rest by later writes.
        with _naming(self.location, "cannot write to the store at"):
            self._store.update(delete_record(graph) + " ;\n" + mark_pending(graph, utc_now()))
            if files:
                self.data_plane.drop(files)
            if self.location is not None:
                self._store.flush()
        self._delete_hidden(graph, _DROP_BUDGET)
        return count

    def _delete_hidden(self, graph: str, budget: float) -> None:
        """Delete the hidden (pending, uncatalogued) ``graph``: on an embedded store with the other
        leftovers, for at most ``budget`` seconds; on a server only that graph (one request), as
        another client's load in progress is pending there too."""
        if self._remote:
            self._discard(graph)
        else:
            self._collect_garbage(budget)

    def _graph_matrix_files(self, graph: str) -> list[Any]:
        """The matrix files the catalog lists for ``graph``."""
        from kg.store.matrices import MATRIX_FILES_QUERY, records_from_frame

        frame = self.query(MATRIX_FILES_QUERY)
        assert isinstance(frame, pd.DataFrame)
        if frame.empty:
            return []
        return records_from_frame(frame[frame["graph"] == graph])

    def _count(self, graph: str) -> int:
        rows = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)

    def update(self, sparql: str) -> None:
        """Run SPARQL 1.1 UPDATE (only the endpoint's token-guarded path and tests use this).

        :raises StoreError: the store is open read-only.
        :raises QuerySyntaxError: the update does not parse.

        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> 1 } }")
        >>> kg.query("ASK { <urn:example:a> <urn:example:b> 1 }")
        True
        """
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

        Without ``graph``: the data graphs (``data_graphs()``), the catalog and the store's
        default graph, never a hidden graph (a load in progress, a version being deleted, the
        pending-load marks); triple formats write their union.

        :raises StoreError: ``graph`` is hidden (being loaded or deleted), or the format is unknown.

        >>> import io
        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> out = io.BytesIO()
        >>> kg.export(out, format="ntriples", graph="urn:example:g")
        >>> out.getvalue()
        b'<urn:example:a> <urn:example:b> <urn:example:c> .\\n'
        """
        shown = [*self.data_graphs(), CATALOG_GRAPH]
        if graph is not None and graph not in shown and self._store.contains_named_graph(ox.NamedNode(graph)):
            raise StoreError(f"{graph} is being loaded or deleted, not a committed graph of this store; see igkg stats")
        export_store(self._store, output, format=format, graph=graph, graphs=shown)


def _graph_node(graph: Any) -> Any:
    """A graph name as pyoxigraph's: an IRI string becomes a ``NamedNode``."""
    return ox.NamedNode(graph) if isinstance(graph, str) else graph


def _values_mode(values: str) -> str:
    """``values`` checked: rdf, columnar or both."""
    from loaders import VALUES_MODES

    mode = str(values).strip().lower()
    if mode not in VALUES_MODES:
        raise ConfigError(f"values must be one of {', '.join(VALUES_MODES)}, not {values!r}")
    return mode


def _path_digest(source: Path) -> str:
    """SHA-256 of the resolved path of a source: part of its identity, never published as a path."""
    return hashlib.sha256(str(source.resolve()).encode()).hexdigest()


def _table_digest(table: Any) -> str:
    """Content digest of an ``ingest`` table: a frame's row hashes, a Parquet file's bytes (read in chunks)."""
    if isinstance(table, os.PathLike):
        digest = hashlib.sha256()
        with open(table, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    return str(int(pd.util.hash_pandas_object(table, index=False).sum()))


def _with_lookups(input_fingerprint: str, digests: Mapping[str, str]) -> str:
    """The version fingerprint: the input's, plus the content digests of the lookups the mapping used."""
    if not digests:
        return input_fingerprint
    return hashlib.sha256((input_fingerprint + json.dumps(dict(digests), sort_keys=True)).encode()).hexdigest()


def _choose_version(
    versions: list[_Catalogued], base_key: str, path_digest: str, file_uri: str, *, named: bool, replace: bool
) -> tuple[str, _Catalogued | None]:
    """The key a load writes and the catalogued version it replaces (``None``: a new source).

    A named source (``source_name``) replaces the version of that name. Otherwise the version
    loaded from the same path is replaced; with ``replace``, the version holding ``base_key``
    (from whatever folder); else the file is a new source, keyed ``base_key`` when that is
    free and ``base_key~<path digest>`` when another folder's file holds it.
    """
    holder = next((v for v in versions if v.key == base_key), None)
    if named:
        return base_key, holder
    same_path = [v for v in versions if v.path_digest == path_digest or (v.path_digest is None and v.file == file_uri)]
    if same_path:
        return same_path[0].key, same_path[0]
    if holder is None:
        return base_key, None
    if replace:
        return base_key, holder
    return f"{base_key}~{path_digest[:8]}", None


@contextlib.contextmanager
def _naming(path: str | os.PathLike[str] | None, action: str) -> Iterator[None]:
    """Turn an ``OSError`` that names no file (Oxigraph's ``(os error 2)``) into a ``StoreError`` naming ``path``."""
    try:
        yield
    except StoreError:
        raise
    except OSError as exc:
        if getattr(exc, "filename", None):
            raise
        raise StoreError(f"{action} {path if path is not None else 'memory'}: {exc}") from exc


def _option_identity(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as they count for a source's identity: a file named by an option counts by
    its content, not its path, so the same data loaded from another folder is the same."""
    identity: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, str) and len(value) < 4096 and Path(value).is_file():
            identity[key] = {"sha256": sha256(value)}
        else:
            identity[key] = value
    return identity


def _open_oxigraph(location: str | None, read_only: bool) -> ox.Store:
    """The embedded Oxigraph store at ``location`` (in memory for ``None``)."""
    if location is None:
        if read_only:
            raise StoreError("an in-memory store cannot be opened read-only")
        return ox.Store()
    path = Path(location)
    try:
        if read_only:
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
