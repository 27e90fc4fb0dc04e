"""The SPARQL 1.1 Protocol as a FastAPI ``APIRouter`` that mounts into any FastAPI app.

Query by ``GET ?query=``, by ``POST`` form (``application/x-www-form-urlencoded``) and
by ``POST application/sparql-query``; ``default-graph-uri``/``named-graph-uri`` set the
dataset (when either is given, the dataset is exactly those graphs); results by
``Accept`` or ``format``. Update by ``POST application/sparql-update`` or form
``update=``, only with ``Authorization: Bearer <token>`` when the endpoint has one.
Without a query, ``GET`` answers the service description. Errors map to statuses in
``kg.endpoint.errors``: 400 malformed (with the position), 403 refused, 406, 413, 415,
422 over the row cap, 503 timeout or busy.

>>> from fastapi import FastAPI
>>> from kg.endpoint.router import sparql_router
>>> callable(sparql_router)
True
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.requests import ClientDisconnect

from kg.endpoint.errors import BodyTooLarge, RequestAborted, UnsupportedMediaType, error_response
from kg.endpoint.formats import prefers_html
from kg.endpoint.guard import check_iri_list
from kg.endpoint.served_store import SparqlService
from kg.endpoint.workers import Job
from kg.core.errors import IgkgError, QueryRefused, QuerySyntaxError

__all__ = ["client_of", "read_body", "sparql_router"]

logger = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with ``BodyTooLarge`` as soon as it passes ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before reading anything; a
    chunked body is read only up to the limit.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise QuerySyntaxError(f"bad Content-Length {declared!r}") from None
        if size > limit:
            raise BodyTooLarge(f"the request body has {size} bytes; this endpoint accepts at most {limit} (IGKG_MAX_BODY_BYTES)")
    chunks: list[bytes] = []
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge(f"the request body is over {limit} bytes, this endpoint's limit (IGKG_MAX_BODY_BYTES)")
            chunks.append(chunk)
    except ClientDisconnect:
        client = f"{request.client.host}:{request.client.port}" if request.client is not None else "a client"
        logger.info("%s closed the connection after %d bytes of a %s %s body", client, received, request.method, request.url.path)
        raise RequestAborted(f"the client closed the connection after {received} bytes of the body") from None
    return b"".join(chunks)


def client_of(request: Request) -> str:
    """Who sent the request, for fair scheduling (the peer address; uvicorn applies trusted proxy headers)."""
    return request.client.host if request.client is not None else ""


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    parts = [p.strip() for p in raw.split(";")]
    params = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def _decode(body: bytes, params: dict[str, str]) -> str:
    charset = params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {charset!r} is not supported; send UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuerySyntaxError(f"the request body is not UTF-8 (byte {exc.start})") from None


def sparql_router(
    service: SparqlService,
    *,
    path: str = "/sparql",
    describe: Callable[[Request, str | None, str | None], Awaitable[Response]] | None = None,
    html_page: Callable[[Request], Awaitable[HTMLResponse]] | None = None,
) -> APIRouter:
    """An ``APIRouter`` serving the SPARQL 1.1 Protocol at ``path`` for ``service``.

    ``describe(request, accept, format)`` answers a ``GET`` without a query (the service
    description; by default ``kg.endpoint.describe.service_description``), ``html_page``
    answers a browser's ``GET`` without a query (e.g. the query page).
    """
    config = service.config
    router = APIRouter(tags=["SPARQL 1.1 Protocol"])

    if describe is None:
        from kg.endpoint.describe import service_description

        async def describe(request: Request, accept: str | None, fmt: str | None) -> Response:  # noqa: F811
            return await service_description(service, request, accept, fmt)

    async def run_query(
        request: Request,
        text: str,
        default_graphs: list[str],
        named_graphs: list[str],
        fmt: str | None,
    ) -> Response:
        check_iri_list(default_graphs, "default-graph-uri")
        check_iri_list(named_graphs, "named-graph-uri")
        protocol_dataset = bool(default_graphs or named_graphs)
        job = Job(
            text=text,
            default_graphs=tuple(default_graphs) if protocol_dataset else None,
            named_graphs=tuple(named_graphs) if protocol_dataset else None,
            accept=request.headers.get("accept"),
            format=fmt,
            max_rows=config.max_rows,
            allowed_service=config.allowed_service_prefixes,
            max_bytes=config.max_bytes,
        )
        answer = await service.run(job, client=client_of(request))
        media = answer.media_type
        if media.startswith("text/") or media.endswith("json"):
            media += "; charset=utf-8"
        return Response(
            content=answer.body,
            headers={
                "Content-Type": media,
                "Vary": "Accept",
                "X-IGKG-Max-Rows": str(config.max_rows),
                "X-IGKG-Rows": str(answer.rows),
            },
        )

    async def run_update(request: Request, text: str) -> Response:
        if not config.updates_enabled:
            raise QueryRefused("this endpoint is read-only: SPARQL UPDATE is not enabled (igkg serve --update-token-file FILE, or IGKG_UPDATE_TOKEN)")
        _check_token(request, config.update_token or "")
        await service.update(text)
        return Response(status_code=204)

    @router.get(
        path,
        summary="SPARQL query (GET), or the service description without a query",
        responses={
            200: {"description": "Results (SPARQL JSON/XML/CSV/TSV) or RDF (Turtle, N-Triples, N-Quads, JSON-LD, RDF/XML)"},
            400: {"description": "Malformed query (the message gives the position)"},
            403: {"description": "Refused: SERVICE/LOAD outside the allow-list, file: IRIs"},
            406: {"description": "No acceptable result format"},
            413: {"description": "The result is over the byte cap (--max-bytes)"},
            422: {"description": "The result is over the row cap"},
            503: {"description": "Timed out (the query was stopped) or busy"},
        },
    )
    async def sparql_get(
        request: Request,
        query: Annotated[str | None, Query(description="The SPARQL query.")] = None,
        default_graph_uri: Annotated[list[str], Query(alias="default-graph-uri", description="Default graph(s) of the dataset.")] = [],  # noqa: B006
        named_graph_uri: Annotated[list[str], Query(alias="named-graph-uri", description="Named graph(s) of the dataset.")] = [],  # noqa: B006
        format: Annotated[str | None, Query(description="Result format: json, xml, csv, tsv, turtle, ntriples, nquads, jsonld, rdfxml or a media type.")] = None,  # noqa: A002
    ) -> Response:
        try:
            if "update" in request.query_params:
                raise QuerySyntaxError("SPARQL UPDATE must be sent by POST (application/sparql-update or a form)")
            if query is None:
                if html_page is not None and prefers_html(request.headers.get("accept")) and format is None:
                    return await html_page(request)
                return await describe(request, request.headers.get("accept"), format)
            return await run_query(request, query, default_graph_uri, named_graph_uri, format)
        except IgkgError as exc:
            return error_response(exc)

    @router.post(
        path,
        summary="SPARQL query or update (POST form, application/sparql-query, application/sparql-update)",
        openapi_extra={
            "requestBody": {
                "content": {
                    SPARQL_QUERY: {"schema": {"type": "string"}},
                    SPARQL_UPDATE: {"schema": {"type": "string"}},
                    FORM: {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "query": {"type": "string"},
                                "update": {"type": "string"},
                                "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                                "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                                "format": {"type": "string"},
                            },
                        }
                    },
                }
            }
        },
        responses={
            200: {"description": "Query results"},
            204: {"description": "Update done"},
            403: {"description": "Refused (read-only, bad token, SERVICE/LOAD, file: IRIs)"},
            413: {"description": "Body over the size cap, or the result over the byte cap"},
            415: {"description": "Unsupported content type"},
        },
    )
    async def sparql_post(request: Request) -> Response:
        try:
            media, params = _media_type(request)
            if media not in (FORM, SPARQL_QUERY, SPARQL_UPDATE):
                raise UnsupportedMediaType(
                    f"Content-Type {media or '(none)'!r} is not a SPARQL protocol request; "
                    f"use {FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}"
                )
            if media == SPARQL_UPDATE and not config.updates_enabled:
                # Refuse before reading the body: nothing of an update is parsed on a read-only endpoint.
                raise QueryRefused("this endpoint is read-only: SPARQL UPDATE is not enabled (igkg serve --update-token-file FILE, or IGKG_UPDATE_TOKEN)")
            body = await read_body(request, config.max_body_bytes)
            text = _decode(body, params)
            url_params = request.query_params
            if media == SPARQL_QUERY:
                return await run_query(
                    request,
                    text,
                    url_params.getlist("default-graph-uri"),
                    url_params.getlist("named-graph-uri"),
                    url_params.get("format"),
                )
            if media == SPARQL_UPDATE:
                _refuse_update_dataset(url_params.getlist("using-graph-uri") + url_params.getlist("using-named-graph-uri"))
                return await run_update(request, text)
            form = parse_qs(text, keep_blank_values=True)
            queries = form.get("query", [])
            updates = form.get("update", [])
            if len(queries) + len(updates) != 1:
                raise QuerySyntaxError("a form request carries exactly one 'query' or one 'update' parameter")
            if updates:
                _refuse_update_dataset(form.get("using-graph-uri", []) + form.get("using-named-graph-uri", []))
                return await run_update(request, updates[0])
            fmt = form.get("format", [None])[0] or url_params.get("format")
            return await run_query(
                request,
                queries[0],
                form.get("default-graph-uri", []),
                form.get("named-graph-uri", []),
                fmt,
            )
        except IgkgError as exc:
            return error_response(exc)

    return router


def _check_token(request: Request, expected: str) -> None:
    """Constant-time comparison of the ``Authorization: Bearer`` token with the configured one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    provided = token.strip() if scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(provided.encode("utf-8"), expected.encode("utf-8")) or not provided:
        raise QueryRefused("SPARQL UPDATE needs the endpoint's token as 'Authorization: Bearer <token>'")


def _refuse_update_dataset(iris: list[str]) -> None:
    if iris:
        raise QuerySyntaxError("using-graph-uri / using-named-graph-uri are not supported; write USING in the update")
