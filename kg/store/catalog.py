"""The catalog: one PROV-O / DCAT / VoID record per loaded source version, in its own graph.

>>> graph_iri("hgnc/hgnc_complete_set.txt", "0123456789abcdef0123")
'https://w3id.org/igkg/graph/hgnc/hgnc_complete_set.txt/0123456789abcdef'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import Literal, URIRef

from kg.core.files import utc_now
from kg.core.namespaces import CATALOG_GRAPH, DCAT, DCT, GRAPH_BASE, IGKG, PROV, RDF, RDFS, VOID, XSD
from kg.core.terms import nt
from kg.core.version import __version__

__all__ = [
    "CATALOG_GRAPH",
    "CATALOG_QUERY",
    "PENDING_GRAPH",
    "SOURCE_VERSIONS_QUERY",
    "SourceVersion",
    "clear_pending",
    "delete_record",
    "graph_iri",
    "mark_pending",
    "pending_graphs_query",
    "record_update",
    "source_key_query",
]

CATALOG_QUERY = f"""SELECT ?graph ?source ?kind ?file ?sha256 ?triples ?loaded WHERE {{
  GRAPH <{CATALOG_GRAPH}> {{
    ?graph a igkg:SourceGraph ; igkg:sourceKey ?source ; igkg:loaderKind ?kind ;
           void:triples ?triples ; prov:generatedAtTime ?loaded .
    OPTIONAL {{ ?graph dct:source ?file }}
    OPTIONAL {{ ?graph prov:wasDerivedFrom/igkg:sha256 ?sha256 }}
  }} }} ORDER BY ?source"""
"""One row per catalogued source: graph, source key, kind, file, checksum, triples, load time."""


def graph_iri(key: str, fingerprint: str) -> str:
    """The named-graph IRI of one version of a source.

    >>> graph_iri("hgnc/hgnc_complete_set.txt", "ab" * 32)
    'https://w3id.org/igkg/graph/hgnc/hgnc_complete_set.txt/abababababababab'
    """
    return GRAPH_BASE + quote(key, safe="/-._~") + "/" + fingerprint[:16]


def source_key_query() -> str:
    """SELECT of the graph currently catalogued for the source key bound as ``?key``.

    >>> import pyoxigraph as ox
    >>> from kg.query.binding import bind_values
    >>> list(ox.Store().query(bind_values(source_key_query(), {"key": "rdf/facts.nt"})))
    []
    """
    return f"SELECT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g <{IGKG.sourceKey}> ?key }} }}"


SOURCE_VERSIONS_QUERY = f"""SELECT ?g ?key ?fingerprint ?input ?lookups ?path ?file ?triples ?records WHERE {{
  GRAPH <{CATALOG_GRAPH}> {{
    ?g <{IGKG.sourceKey}> ?key ; <{IGKG.fingerprint}> ?fingerprint ; <{VOID.triples}> ?triples .
    OPTIONAL {{ ?g <{IGKG.recordsRead}> ?records }}
    OPTIONAL {{ ?g <{IGKG.inputFingerprint}> ?input }}
    OPTIONAL {{ ?g <{IGKG.lookupDigests}> ?lookups }}
    OPTIONAL {{ ?g <{IGKG.sourcePathDigest}> ?path }}
    OPTIONAL {{ ?g <{DCT.source}> ?file }}
  }} }} ORDER BY ?key"""
"""Every catalogued source version with what a new load compares it by (fingerprints, lookup
digests, path digest, size); ``KnowledgeGraph.load`` keeps those of one source key."""


PENDING_GRAPH = GRAPH_BASE + "pending"
"""The graph of igkg's pending-load marks (hidden from every query, like a load in progress)."""


def mark_pending(graph: str, started: str) -> str:
    """The update recording that an igkg load is writing ``graph`` (removed by the catalog switch).

    A graph with this marker and no catalog record is what an interrupted load left behind,
    and only such graphs are removed by recovery. The marks live in their own graph
    (``PENDING_GRAPH``), which no query's dataset includes.

    >>> import pyoxigraph as ox
    >>> store = ox.Store()
    >>> store.update(mark_pending("urn:example:g", "2024-05-01T12:00:00Z"))
    >>> [row["g"].value for row in store.query(pending_graphs_query())]
    ['urn:example:g']
    """
    return (
        f"INSERT DATA {{ GRAPH <{PENDING_GRAPH}> {{ <{graph}> a <{IGKG.PendingLoad}> ; "
        f"<{PROV.startedAtTime}> {nt(_lit(started, XSD.dateTime))} }} }}"
    )


def clear_pending(graph: str) -> str:
    """The update removing the pending-load marker of ``graph``.

    >>> import pyoxigraph as ox
    >>> store = ox.Store()
    >>> store.update(mark_pending("urn:example:g", "2024-05-01T12:00:00Z"))
    >>> store.update(clear_pending("urn:example:g"))
    >>> list(store.query(pending_graphs_query()))
    []
    """
    return (
        f"DELETE WHERE {{ GRAPH <{PENDING_GRAPH}> {{ <{graph}> a <{IGKG.PendingLoad}> ; "
        f"<{PROV.startedAtTime}> ?started }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{PENDING_GRAPH}> {{ <{graph}> a <{IGKG.PendingLoad}> }} }}"
    )


def pending_graphs_query() -> str:
    """SELECT ``?g``: the graphs an igkg load marked as being written.

    >>> import pyoxigraph as ox
    >>> list(ox.Store().query(pending_graphs_query()))
    []
    """
    return f"SELECT DISTINCT ?g WHERE {{ GRAPH <{PENDING_GRAPH}> {{ ?g a <{IGKG.PendingLoad}> }} }}"


def delete_record(graph: str) -> str:
    """The SPARQL update removing the catalog record of ``graph`` (graph, load activity, source file).

    >>> import pyoxigraph as ox
    >>> from loaders import LoadReport
    >>> store = ox.Store()
    >>> version = SourceVersion(key="rdf/facts.nt", graph="urn:example:g", kind="rdf", loader_version="1",
    ...                         fingerprint="ab" * 32, report=LoadReport(source="facts.nt", kind="rdf"), started="2024-05-01T12:00:00Z")
    >>> store.update(record_update(version))
    >>> store.update(delete_record("urn:example:g"))
    >>> len(store)
    0
    """
    from kg.store.matrices import delete_distributions

    return (
        delete_distributions(graph) + " ;\n"
        f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph}> ?p ?o }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph}#load> ?p2 ?o2 }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ <{graph}#source> ?p3 ?o3 }} }}"
    )


def _lit(value: Any, datatype: Any = None) -> Literal:
    return Literal(value, datatype=datatype) if datatype else Literal(value)


@dataclass(frozen=True)
class SourceVersion:
    """One version of a source as the catalog records it.

    >>> from loaders import LoadReport
    >>> version = SourceVersion(key="rdf/facts.nt", graph=graph_iri("rdf/facts.nt", "ab" * 32), kind="rdf",
    ...                         loader_version="1", fingerprint="ab" * 32, report=LoadReport(source="facts.nt", kind="rdf"),
    ...                         started="2024-05-01T12:00:00Z")
    >>> version.graph
    'https://w3id.org/igkg/graph/rdf/facts.nt/abababababababab'
    """

    key: str
    """The source key, ``<kind>/<file name>`` (``~<path digest>`` appended for a second file of
    that kind and name from another folder; ``associations/<run id>`` ...)."""
    graph: str
    kind: str
    loader_version: str
    fingerprint: str
    report: Any
    """The ``LoadReport``: triples, records read and rejected, unmapped ids, extra provenance."""
    started: str
    file: Path | None = None
    sha: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    used: tuple[str, ...] = ()
    """IRIs (input graphs, files) the load or analysis used, for ``prov:used``."""
    matrices: tuple[Any, ...] = ()
    matrices_generated_by: str | None = None
    """The activity (an analysis run's IRI) that made the matrices, when not the load itself."""
    """The ``kg.dataplane.MatrixFile`` records of the version's matrices (DCAT distributions)."""
    input_fingerprint: str | None = None
    """The fingerprint of the input alone (file, kind, loader version, options); ``fingerprint``
    adds the digests of the lookups the mapping used, so a reload after they change re-maps."""
    lookup_digests: Mapping[str, str] = field(default_factory=dict)
    """Lookup name (``genes``) -> digest of its content at load time."""
    path_digest: str | None = None
    """SHA-256 of the resolved path the source was loaded from (its identity besides kind and name)."""


def record_update(version: SourceVersion) -> str:
    """The ``INSERT DATA`` of one source version's catalog record (PROV-O activity, DCAT file, VoID counts).

    >>> import pyoxigraph as ox
    >>> from kg.query.binding import bind_values
    >>> from loaders import LoadReport
    >>> store = ox.Store()
    >>> version = SourceVersion(key="rdf/facts.nt", graph="urn:example:g", kind="rdf", loader_version="1",
    ...                         fingerprint="ab" * 32, report=LoadReport(source="facts.nt", kind="rdf", triples=1),
    ...                         started="2024-05-01T12:00:00Z")
    >>> store.update(record_update(version))
    >>> [row["g"].value for row in store.query(bind_values(source_key_query(), {"key": "rdf/facts.nt"}))]
    ['urn:example:g']
    """
    key, graph, kind, report, file = version.key, version.graph, version.kind, version.report, version.file
    g = URIRef(graph)
    activity = URIRef(graph + "#load")
    triples: list[tuple[Any, Any, Any]] = [
        (g, RDF.type, IGKG.SourceGraph),
        (g, RDF.type, PROV.Entity),
        (g, RDF.type, VOID.Dataset),
        (g, RDFS.label, _lit(f"{kind}: {key.split('/', 1)[-1]}")),
        (g, IGKG.sourceKey, _lit(key)),
        (g, IGKG.loaderKind, _lit(kind)),
        (g, IGKG.fingerprint, _lit(version.fingerprint)),
        (g, IGKG.inputFingerprint, _lit(version.input_fingerprint or version.fingerprint)),
        (g, VOID.triples, _lit(report.triples)),
        (g, IGKG.recordsRead, _lit(report.records_read)),
        (g, IGKG.recordsRejected, _lit(len(report.rejected))),
        (g, IGKG.unmappedIdentifiers, _lit(sum(len(v) for v in report.unmapped.values()))),
        (g, PROV.generatedAtTime, _lit(utc_now(), XSD.dateTime)),
        (g, PROV.wasGeneratedBy, activity),
        (activity, RDF.type, PROV.Activity),
        (activity, RDFS.label, _lit(f"igkg load of {key}")),
        (activity, PROV.startedAtTime, _lit(version.started, XSD.dateTime)),
        (activity, PROV.endedAtTime, _lit(utc_now(), XSD.dateTime)),
        (activity, IGKG.softwareVersion, _lit(f"igkg {__version__}")),
        (activity, IGKG.loaderVersion, _lit(version.loader_version)),
        (activity, IGKG.parameters, _lit(json.dumps(dict(version.options), sort_keys=True, default=str))),
    ]
    if file is not None:
        # The input as seen by this load: its own node, so dropping the graph drops it too.
        used_file = URIRef(graph + "#source")
        triples += [
            (g, PROV.wasDerivedFrom, used_file),
            # the file's name and checksum, never the server's path to it (published by VoID and the endpoint)
            (g, DCT.source, _lit(file.name)),
            (activity, PROV.used, used_file),
            (used_file, RDF.type, PROV.Entity),
            (used_file, RDF.type, DCAT.Distribution),
            (used_file, DCT.title, _lit(file.name)),
            (used_file, IGKG.sha256, _lit(version.sha or "")),
        ]
        if file.is_file():
            triples.append((used_file, DCAT.byteSize, _lit(file.stat().st_size)))
    if version.lookup_digests:
        triples.append((g, IGKG.lookupDigests, _lit(json.dumps(dict(version.lookup_digests), sort_keys=True))))
    if version.path_digest:
        triples.append((g, IGKG.sourcePathDigest, _lit(version.path_digest)))
    for iri in version.used:
        triples.append((activity, PROV.used, URIRef(iri)))
    for predicate, obj in getattr(report, "provenance", []):
        triples.append((g, predicate, obj))
    if version.matrices:
        from kg.store.matrices import distribution_triples

        triples += distribution_triples(graph, version.matrices, generated_by=version.matrices_generated_by)
    body = "\n".join(f"{nt(s)} {nt(p)} {nt(o)} ." for s, p, o in triples)
    return f"INSERT DATA {{ GRAPH <{CATALOG_GRAPH}> {{\n{body}\n}} }}"
