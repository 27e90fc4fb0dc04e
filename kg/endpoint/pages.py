"""Pages and REST routes for people: the Yasgui query page, ``/entity``, ``/api/queries``.

The query page loads Yasgui from ``kg/static`` (served by the app, never a CDN) and opens
one tab per named query (``queries/*.rq``, read through ``kg.query.named``), with the
parameters' defaults bound. ``/entity?iri=...`` shows what the graph says about one IRI:
labels, types, links out and in, and the radiogenomic associations it takes part in
(HTML for browsers; Turtle, JSON-LD, N-Triples or RDF/XML by ``Accept``). The named
queries are REST routes with their parameters, listed in the OpenAPI schema.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from kg.endpoint.columnar import columnar_answer
from kg.endpoint.errors import error_response
from kg.endpoint.formats import choose, prefers_html
from kg.endpoint.served_store import PAGE_LANE, SparqlService
from kg.endpoint.workers import Job
from kg.core.errors import IgkgError, QuerySyntaxError, UnknownQuery
from kg.core.namespaces import IGKG, RDF, RDFS, SKOS, compress
from kg.query.binding import bind_values
from kg.core.terms import nt

__all__ = ["named_queries", "pages_router", "query_page"]

logger = logging.getLogger(__name__)

_SECTION_LIMIT = 200


def named_queries() -> dict[str, Any]:
    """The named queries (name -> ``NamedQuery``); empty if the query layer is absent or broken."""
    try:
        from kg.query.named import load_queries
    except ImportError:
        return {}
    try:
        return dict(sorted(load_queries().items()))
    except Exception as exc:  # a broken .rq must not take the endpoint down
        logger.warning("named queries unavailable: %s", exc)
        return {}


def _render(query: Any, values: dict[str, Any] | None) -> str:
    sparql, bindings = query.render(values)
    return bind_values(sparql, bindings)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>igkg SPARQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{static}/yasgui/yasgui.min.css">
<style>body{{font-family:system-ui,sans-serif;margin:0}} header{{padding:.5em 1em;background:#22405a;color:#fff}}
header a{{color:#cde}} #yasgui{{margin:0 .5em}}</style></head>
<body><header><b>igkg</b> imaging-genomics knowledge graph &middot; SPARQL endpoint <code>{endpoint}</code>
&middot; <a href="{root}/docs">API</a> &middot; <a href="{root}/api/queries">named queries</a>
&middot; <a href="{endpoint}?format=turtle">service description</a></header>
<div id="yasgui"></div>
<script type="application/json" id="igkg-config">{config}</script>
<script src="{static}/yasgui/yasgui.min.js"></script>
<script src="{static}/igkg/query-page.js"></script>
</body></html>
"""
"""The query page: Yasgui and ``static/igkg/query-page.js``, configured by a JSON data block
(no inline script, so it runs under the endpoint's Content-Security-Policy)."""


async def query_page(request: Request, *, endpoint_path: str = "/sparql") -> HTMLResponse:
    """The Yasgui page with one example tab per named query (defaults bound)."""
    root = request.scope.get("root_path", "")
    examples = []
    for name, query in named_queries().items():
        try:
            examples.append({"name": name, "query": f"# {query.description}\n" + _render(query, None)})
        except IgkgError as exc:  # a query whose required parameters have no default
            examples.append({"name": name, "query": f"# {query.description}\n# needs parameters: {exc}\n" + query.sparql})
    endpoint = root + endpoint_path
    config = {"endpoint": endpoint, "examples": examples}
    page = _PAGE.format(
        static=html.escape(root + "/static"),
        root=html.escape(root),
        endpoint=html.escape(endpoint),
        config=json.dumps(config).replace("<", "\\u003c"),
    )
    return HTMLResponse(page)


def pages_router(service: SparqlService, *, endpoint_path: str = "/sparql") -> APIRouter:
    """Routes for people and REST clients: ``/``, ``/entity``, ``/api/queries[/{name}]``."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        return await query_page(request, endpoint_path=endpoint_path)

    @router.get("/api/queries", tags=["named queries"], summary="The named queries with their parameters")
    async def list_queries() -> list[dict[str, Any]]:
        return [_describe_query(q) for q in named_queries().values()]

    @router.get(
        "/api/queries/{name}",
        tags=["named queries"],
        summary="Run a named query; parameters as query-string values (see /api/queries)",
        responses={
            200: {"description": "SPARQL results (JSON by default; CSV, TSV, XML by Accept or format)"},
            404: {"description": "No such query, or an unknown parameter"},
        },
    )
    async def run_query(request: Request, name: str, format: str | None = None) -> Response:  # noqa: A002
        try:
            query = named_queries().get(name)
            if query is None:
                raise UnknownQuery(f"no named query {name!r} (see /api/queries)")
            values = {k: v for k, v in request.query_params.items() if k != "format"}
            text = _render(query, values)
            accept = request.headers.get("accept")
            joined = await columnar_answer(service, query, values, format, accept, PAGE_LANE)
            if joined is not None:  # values of sources loaded --values columnar, from the data plane
                return joined
            if format is None and (not accept or prefers_html(accept) or "application/json" in accept):
                format = "json"  # noqa: A001
            answer = await service.run(
                Job(text=text, accept=accept, format=format, max_rows=service.config.max_rows,
                    allowed_service=service.config.allowed_service_prefixes, max_bytes=service.config.max_bytes),
                client=_client(request),
                lane=PAGE_LANE,
            )
            return Response(content=answer.body, media_type=answer.media_type,
                            headers={"X-IGKG-Rows": str(answer.rows)})
        except IgkgError as exc:
            return error_response(exc)

    @router.get(
        "/entity",
        tags=["entities"],
        summary="What the graph says about one IRI (HTML, or RDF by Accept)",
        responses={200: {"content": {"text/html": {}, "text/turtle": {}, "application/ld+json": {}}}},
    )
    async def entity(
        request: Request,
        iri: str = Query(..., description="The IRI (or a CURIE such as ncbigene:1956)."),
        format: str | None = Query(None, description="turtle, jsonld, ntriples, rdfxml; HTML if absent and a browser asks"),  # noqa: A002
    ) -> Response:
        try:
            target = _entity_iri(iri)
            accept = request.headers.get("accept")
            if format is None and prefers_html(accept):
                return await _entity_html(service, target)
            fmt = choose("CONSTRUCT", accept if format is None else None, format)
            answer = await service.run(
                Job(text=_entity_construct(target), format=fmt.name, max_rows=service.config.max_rows,
                    max_bytes=service.config.max_bytes),
                client=_client(request),
                lane=PAGE_LANE,
            )
            return Response(content=answer.body, media_type=answer.media_type, headers={"Vary": "Accept"})
        except IgkgError as exc:
            return error_response(exc)

    return router


def _describe_query(query: Any) -> dict[str, Any]:
    return {
        "name": query.name,
        "description": query.description,
        "parameters": [
            {"name": p.name, "type": p.type, "default": p.default, "required": p.required, "description": p.doc}
            for p in query.params
        ],
        "path": f"/api/queries/{query.name}",
        "sparql": query.sparql,
    }


def _entity_iri(text: str) -> str:
    from kg.core.namespaces import expand

    value = text.strip()
    if "://" not in value and not value.startswith("urn:"):
        expanded = expand(value)
        if expanded is None:
            raise QuerySyntaxError(f"iri={text!r} is neither an absolute IRI nor a CURIE with a known prefix")
        value = expanded
    try:
        from rdflib import URIRef

        nt(URIRef(value))
    except ValueError:
        raise QuerySyntaxError(f"iri={text!r} is not a valid IRI") from None
    if value.lower().startswith("file:"):
        raise QuerySyntaxError("file: IRIs are not looked up")
    return value


def _entity_construct(iri: str) -> str:
    node = f"<{iri}>"
    return f"""CONSTRUCT {{
  {node} ?p ?o . ?o <{RDFS.label}> ?ol .
  ?s ?q {node} . ?s <{RDFS.label}> ?sl .
  ?a ?ap ?av .
}} WHERE {{
  {{ {node} ?p ?o OPTIONAL {{ ?o <{RDFS.label}> ?ol }} }}
  UNION {{ SELECT ?s ?q ?sl WHERE {{ ?s ?q {node} OPTIONAL {{ ?s <{RDFS.label}> ?sl }} }} LIMIT {_SECTION_LIMIT} }}
  UNION {{ ?a a <{IGKG.RadiogenomicAssociation}> . {{ ?a <{IGKG.feature}> {node} }} UNION {{ ?a <{IGKG.target}> {node} }} ?a ?ap ?av }}
}}"""


def _client(request: Request) -> str:
    """Who sent the request, for fair scheduling (the peer address; uvicorn applies trusted proxy headers)."""
    return request.client.host if request.client is not None else ""


async def _entity_html(service: SparqlService, iri: str) -> HTMLResponse:
    node = f"<{iri}>"

    async def select(sparql: str) -> list[dict[str, Any]]:
        return await service.select(sparql, lane=PAGE_LANE)

    label_of = f"OPTIONAL {{ ?x <{RDFS.label}> ?xl }}"
    labels = await select(
        f"SELECT DISTINCT ?l WHERE {{ {{ {node} <{RDFS.label}> ?l }} UNION {{ {node} <{SKOS.prefLabel}> ?l }} "
        f"UNION {{ {node} <{SKOS.altLabel}> ?l }} }} LIMIT {_SECTION_LIMIT}"
    )
    types = await select(
        f"SELECT DISTINCT ?t ?tl WHERE {{ {node} <{RDF.type}> ?t OPTIONAL {{ ?t <{RDFS.label}> ?tl }} }} LIMIT {_SECTION_LIMIT}"
    )
    out = await select(
        f"SELECT ?p ?x (SAMPLE(?xl0) AS ?xl) WHERE {{ {node} ?p ?x {label_of.replace('?xl', '?xl0')} }} "
        f"GROUP BY ?p ?x ORDER BY ?p ?x LIMIT {_SECTION_LIMIT + 1}"
    )
    into = await select(
        f"SELECT ?x ?p (SAMPLE(?xl0) AS ?xl) WHERE {{ ?x ?p {node} {label_of.replace('?xl', '?xl0')} }} "
        f"GROUP BY ?x ?p ORDER BY ?p ?x LIMIT {_SECTION_LIMIT + 1}"
    )
    # a gene's features include those of its markers (EGFR -> EGFR mutation status); features
    # are named by their label, else their pyradiomics name
    associations = await select(
        f"""SELECT ?a ?feature ?fl ?target ?tl ?statistic ?effect ?p ?q ?n WHERE {{
          ?a a <{IGKG.RadiogenomicAssociation}> ; <{IGKG.feature}> ?feature ; <{IGKG.target}> ?target .
          FILTER(?feature = {node} || ?target = {node} || EXISTS {{ ?target <{IGKG.gene}> {node} }})
          OPTIONAL {{ ?feature <{RDFS.label}> ?fl0 }} OPTIONAL {{ ?feature <{IGKG.pyradiomicsName}> ?fn }}
          BIND(COALESCE(?fl0, ?fn) AS ?fl)
          OPTIONAL {{ ?target <{RDFS.label}> ?tl }}
          OPTIONAL {{ ?a <{IGKG.statistic}> ?statistic }} OPTIONAL {{ ?a <{IGKG.effectSize}> ?effect }}
          OPTIONAL {{ ?a <{IGKG.pValue}> ?p }} OPTIONAL {{ ?a <{IGKG.qValue}> ?q }} OPTIONAL {{ ?a <{IGKG.sampleSize}> ?n }}
        }} ORDER BY ?q ?p ?a LIMIT {_SECTION_LIMIT + 1}"""
    )
    title = labels[0]["l"]["value"] if labels else compress(iri)
    plots = await _plot_sections(service, iri, {r["t"]["value"] for r in types})
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} - igkg</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1em 2em} table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top} h2{margin-top:1.2em}</style>"
        "</head><body>",
        f"<p><a href='./'>query page</a></p><h1>{html.escape(title)}</h1>",
        f"<p><code>{html.escape(iri)}</code> &middot; <a href='entity?iri={quote(iri, safe='')}&amp;format=turtle'>Turtle</a>"
        f" &middot; <a href='entity?iri={quote(iri, safe='')}&amp;format=jsonld'>JSON-LD</a></p>",
        "<h2>Labels</h2><ul class='labels'>" + "".join(f"<li>{_term_html(r['l'])}</li>" for r in labels) + "</ul>",
        "<h2>Types</h2><ul class='types'>" + "".join(f"<li>{_term_html(r['t'], r.get('tl'))}</li>" for r in types) + "</ul>",
        *plots,
        _table("Links out", ["predicate", "object"], [[r["p"], (r["x"], r.get("xl"))] for r in out], "out"),
        _table("Links in", ["subject", "predicate"], [[(r["x"], r.get("xl")), r["p"]] for r in into], "in"),
        _table(
            "Radiogenomic associations",
            ["association", "feature", "target", "statistic", "effect size", "p", "q", "n"],
            [[r["a"], (r["feature"], r.get("fl")), (r["target"], r.get("tl")), r.get("statistic"), r.get("effect"),
              r.get("p"), r.get("q"), r.get("n")] for r in associations],
            "associations",
        ),
        "</body></html>",
    ]
    if not labels and not types and not out and not into:
        parts.insert(3, "<p class='empty'>The graph says nothing about this IRI.</p>")
    return HTMLResponse("".join(parts))


async def _plot_sections(service: SparqlService, iri: str, types: set[str]) -> list[str]:
    """The plots of a run (volcano and top hits) or of an association (box plot), if ``iri`` is one."""
    from kg.endpoint import figures

    sections = []
    if str(IGKG.AnalysisRun) in types:
        sections.append(await figures.run_section(service, iri))
    if str(IGKG.RadiogenomicAssociation) in types:
        sections.append(await figures.association_section(service, iri))
    return sections


def _table(title: str, header: list[str], rows: list[list[Any]], css: str) -> str:
    more = ""
    if len(rows) > _SECTION_LIMIT:
        rows = rows[:_SECTION_LIMIT]
        more = f"<p>(the first {_SECTION_LIMIT} shown; query the endpoint for all)</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<h2>{html.escape(title)} ({len(rows)})</h2><table class='{css}'><tr>{head}</tr>{body}</table>{more}"


def _cell(cell: Any) -> str:
    if isinstance(cell, tuple):
        return _term_html(*cell)
    return _term_html(cell) if cell else ""


def _term_html(term: dict[str, Any] | None, label: dict[str, Any] | None = None) -> str:
    if not term:
        return ""
    value = term["value"]
    if term["type"] == "uri":
        text = label["value"] if label else compress(value)
        return f"<a href='entity?iri={quote(value, safe='')}' title='{html.escape(value)}'>{html.escape(text)}</a>"
    if term["type"] == "bnode":
        return f"_:{html.escape(value)}"
    suffix = f"@{term['xml:lang']}" if "xml:lang" in term else ""
    return html.escape(value) + (f"<sub>{html.escape(suffix)}</sub>" if suffix else "")

