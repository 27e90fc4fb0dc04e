"""``create_app()``: the igkg web application (SPARQL endpoint, query page, entity pages).

>>> from kg.endpoint.app import create_app
>>> callable(create_app)
True
"""

from __future__ import annotations

import contextlib
import html
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from kg.core.version import __version__
from kg.endpoint.config import EndpointConfig
from kg.endpoint.describe import void_description
from kg.endpoint.pages import pages_router, query_page
from kg.endpoint.router import sparql_router
from kg.endpoint.served_store import SparqlService, snapshot

__all__ = ["SECURITY_HEADERS", "STATIC_DIR", "SecurityHeaders", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Vendored assets: Yasgui (npm ``@zazuko/yasgui``), Swagger UI (PyPI ``swagger-ui-bundle``), igkg's page scripts."""

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}
"""Sent with every response: no MIME sniffing, no framing, scripts only from this server."""

_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API</title>
<link rel="stylesheet" href="{static}/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{static}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{static}/swagger-ui/init.js"></script>
</body></html>
"""


class SecurityHeaders:
    """ASGI middleware adding ``SECURITY_HEADERS`` to every HTTP response (those it already has win)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self._extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    kg_or_location: Any,
    config: EndpointConfig | None = None,
) -> FastAPI:
    """The FastAPI app serving a store: ``/sparql``, ``/``, ``/entity``, ``/api/queries``, ``/health``.

    ``kg_or_location`` is a store folder, or a ``KnowledgeGraph``. A folder (or a
    read-only on-disk graph) is served in place; any other graph (in memory, or open for
    writing by this process) is first copied to a temporary on-disk snapshot, because the
    query workers that enforce the timeout are separate processes that must open the
    store themselves; later changes to that object are not seen by the endpoint.
    ``config`` defaults to ``EndpointConfig.from_env()``.
    """
    config = config or EndpointConfig.from_env()
    if isinstance(kg_or_location, (str, os.PathLike)):
        service = SparqlService(str(kg_or_location), config)
    elif getattr(kg_or_location, "location", None) is not None and getattr(kg_or_location, "read_only", False):
        service = SparqlService(str(kg_or_location.location), config)
    else:
        service = SparqlService(snapshot(kg_or_location), config, owns_location=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="igkg SPARQL endpoint",
        version=__version__,
        description=(
            "SPARQL 1.1 Protocol over the igkg imaging-genomics knowledge graph. Read-only unless "
            f"enabled with a token; queries stop after {config.timeout:g} s; results are capped at "
            f"{config.max_rows} rows and {config.max_bytes} bytes; request bodies at {config.max_body_bytes} bytes."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.sparql = service

    app.add_middleware(SecurityHeaders)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(_DOCS_PAGE.format(
            title=html.escape(app.title), static=html.escape(root + "/static"),
            openapi=html.escape(root + (app.openapi_url or "/openapi.json")),
        ))

    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type", "Authorization"],
            expose_headers=["X-IGKG-Rows", "X-IGKG-Max-Rows"],
        )

    @app.get("/health", tags=["service"], summary="Liveness: answers without touching the store")
    async def health() -> JSONResponse:
        alive = service.pool.alive()
        return JSONResponse(
            {"status": "ok" if alive else "starting", "version": __version__, "workers": alive,
             "page_workers": service.pages.alive() if service.pages is not None else 0},
            status_code=200,
        )

    @app.get("/.well-known/void", tags=["service"], summary="VoID description of the dataset (content-negotiated RDF)")
    async def void(request: Request, format: str | None = None) -> Response:
        return await void_description(service, request, request.headers.get("accept"), format)

    async def html_page(request: Request) -> Response:
        return await query_page(request)

    app.include_router(sparql_router(service, html_page=html_page))
    app.include_router(pages_router(service))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
