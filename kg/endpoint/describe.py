"""The SPARQL Service Description (``sd:``) and the VoID description of the served dataset.

Both are RDF built from what the store holds: triples per named graph (counted), the
provenance the catalog graph records for each loaded source (label, kind, file, load
time), and instances per class. They are computed through the query workers (so under
the timeout), cached until the next update, and content-negotiated like CONSTRUCT results.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request, Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef

from kg.endpoint.errors import error_response
from kg.endpoint.formats import choose
from kg.core.errors import IgkgError
from kg.core.namespaces import DCT, IGKG, PREFIXES, PROV, RDF, RDFS, SD, VOID, XSD
from kg.core.namespaces import CATALOG_GRAPH
from kg.core.version import __version__

__all__ = ["dataset_statistics", "file_name", "service_description", "void_description", "void_graph"]

logger = logging.getLogger(__name__)

FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENTAILMENT_SIMPLE = URIRef("http://www.w3.org/ns/entailment/Simple")

_RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "nquads": "nquads", "jsonld": "json-ld", "rdfxml": "xml"}
_MAX_CLASSES = 500


async def dataset_statistics(service: Any) -> dict[str, Any]:
    """Triples per named graph, the catalog's record of each source, and class sizes (cached)."""

    async def compute() -> dict[str, Any]:
        per_graph = await service.select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
        )
        default = await service.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", max_rows=1)
        catalog = await service.select(
            f"""SELECT ?g ?label ?kind ?loaded ?file ?sha256 WHERE {{ GRAPH <{CATALOG_GRAPH}> {{
                ?g a <{IGKG.SourceGraph}> .
                OPTIONAL {{ ?g <{RDFS.label}> ?label }} OPTIONAL {{ ?g <{IGKG.loaderKind}> ?kind }}
                OPTIONAL {{ ?g <{PROV.generatedAtTime}> ?loaded }} OPTIONAL {{ ?g <{DCT.source}> ?file }}
                OPTIONAL {{ ?g <{PROV.wasDerivedFrom}>/<{IGKG.sha256}> ?sha256 }} }} }}"""
        )
        classes: list[dict[str, Any]] = []
        try:
            classes = await service.select(
                "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c "
                f"ORDER BY DESC(?n) ?c LIMIT {_MAX_CLASSES}"
            )
        except IgkgError as exc:  # statistics are a courtesy; a huge store may time out here
            logger.warning("class statistics skipped: %s", exc)
        return {
            "graphs": {row["g"]["value"]: int(row["n"]["value"]) for row in per_graph if row["g"]["type"] == "uri"},
            "union_triples": int(default[0]["n"]["value"]) if default else 0,
            "catalog": {row["g"]["value"]: {k: v["value"] for k, v in row.items()} for row in catalog},
            "classes": [(row["c"]["value"], int(row["n"]["value"])) for row in classes if row["c"]["type"] == "uri"],
        }

    return await service.cached("statistics", compute)


def void_graph(stats: dict[str, Any], endpoint: str, void_iri: str) -> Graph:
    """The VoID description: the dataset, one subset per named graph, class partitions."""
    graph = _new_graph()
    dataset = URIRef(void_iri + "#dataset")
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, DCT.title, Literal("igkg imaging-genomics knowledge graph", lang="en")))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    graph.add((dataset, VOID.triples, Literal(stats["union_triples"], datatype=XSD.integer)))
    graph.add((dataset, VOID.classes, Literal(len(stats["classes"]), datatype=XSD.integer)))
    for cls, count in stats["classes"]:
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(cls)))
        graph.add((partition, VOID.entities, Literal(count, datatype=XSD.integer)))
    default = BNode()
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, RDFS.comment, Literal(
        "The union of the data graphs: every named graph but igkg's catalog "
        f"(query it as GRAPH <{CATALOG_GRAPH}>).", lang="en")))
    graph.add((default, VOID.triples, Literal(stats["union_triples"], datatype=XSD.integer)))
    for iri, count in stats["graphs"].items():
        node = URIRef(iri)
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, node))
        graph.add((named, SD.graph, node))
        graph.add((dataset, VOID.subset, node))
        graph.add((node, RDF.type, VOID.Dataset))
        graph.add((node, RDF.type, SD.Graph))
        graph.add((node, VOID.triples, Literal(count, datatype=XSD.integer)))
        record = stats["catalog"].get(iri, {})
        if "label" in record:
            graph.add((node, RDFS.label, Literal(record["label"])))
        if "kind" in record:
            graph.add((node, IGKG.loaderKind, Literal(record["kind"])))
        if "loaded" in record:
            graph.add((node, PROV.generatedAtTime, Literal(record["loaded"], datatype=XSD.dateTime)))
        if "file" in record:
            graph.add((node, DCT.source, Literal(file_name(record["file"]))))
        if "sha256" in record:
            graph.add((node, IGKG.sha256, Literal(record["sha256"])))
    return graph


def file_name(source: str) -> str:
    """The file name of a catalogued source, never the server's path to it (older stores
    recorded ``file:///...`` IRIs).

    >>> file_name("file:///srv/data/site%20A/clinical.csv"), file_name("clinical.csv")
    ('clinical.csv', 'clinical.csv')
    """
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(source).path) if source.startswith("file:") else source
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _new_graph() -> Graph:
    graph = Graph()
    for prefix, uri in PREFIXES.items():
        graph.bind(prefix, uri, override=True, replace=True)
    graph.bind("formats", FORMATS)
    return graph


def _urls(service: Any, request: Request) -> tuple[str, str]:
    base = str(request.base_url).rstrip("/")
    return base + request.url.path, base + "/.well-known/void"


def _serialise(graph: Graph, accept: str | None, fmt: str | None) -> Response:
    chosen = choose("CONSTRUCT", accept, fmt)
    body = graph.serialize(format=_RDFLIB_FORMATS[chosen.name], encoding="utf-8")
    media = chosen.media_type + ("; charset=utf-8" if chosen.media_type.startswith("text/") or chosen.media_type.endswith("json") else "")
    return Response(content=body, headers={"Content-Type": media, "Vary": "Accept"})


async def service_description(service: Any, request: Request, accept: str | None, fmt: str | None) -> Response:
    """The ``sd:Service`` at the endpoint IRI, with the dataset's VoID statistics."""
    try:
        endpoint, void_iri = _urls(service, request)
        stats = await dataset_statistics(service)
        graph = void_graph(stats, endpoint, void_iri)
        node = URIRef(endpoint)
        config = service.config
        graph.add((node, RDF.type, SD.Service))
        graph.add((node, SD.endpoint, node))
        graph.add((node, SD.supportedLanguage, SD.SPARQL11Query))
        if config.updates_enabled:
            graph.add((node, SD.supportedLanguage, SD.SPARQL11Update))
        if config.allowed_service_prefixes:
            graph.add((node, SD.feature, SD.BasicFederatedQuery))
        graph.add((node, SD.defaultEntailmentRegime, ENTAILMENT_SIMPLE))
        for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                     "Turtle", "N-Triples", "N-Quads", "JSON-LD", "RDF_XML"):
            graph.add((node, SD.resultFormat, FORMATS[name]))
        graph.add((node, SD.defaultDataset, URIRef(void_iri + "#dataset")))
        graph.add((node, RDFS.comment, Literal(
            f"igkg {__version__}: read-only unless enabled; query timeout {config.timeout:g} s; "
            f"at most {config.max_rows} result rows; request bodies up to {config.max_body_bytes} bytes", lang="en")))
        return _serialise(graph, accept, fmt)
    except IgkgError as exc:
        return error_response(exc)


async def void_description(service: Any, request: Request, accept: str | None, fmt: str | None) -> Response:
    """The VoID description alone (served at ``/.well-known/void``)."""
    try:
        base = str(request.base_url).rstrip("/")
        stats = await dataset_statistics(service)
        return _serialise(void_graph(stats, base + "/sparql", base + "/.well-known/void"), accept, fmt)
    except IgkgError as exc:
        return error_response(exc)
