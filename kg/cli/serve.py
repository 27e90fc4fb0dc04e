"""``igkg serve``: the SPARQL endpoint, query page and entity pages over the store, with uvicorn.

The store comes from the global ``--store`` / ``IGKG_STORE``; every limit from an option
or its ``IGKG_*`` variable (the option wins). Safe by default: read-only, 30 s timeout,
10,000 result rows and 64 MiB per result, no SERVICE, no CORS. The update token is read
from ``IGKG_UPDATE_TOKEN`` or a file (``--update-token-file`` / ``IGKG_UPDATE_TOKEN_FILE``),
never from the command line, where ``ps`` shows it to every user of the machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kg.cli.common import fail, store_option

__all__ = ["serve"]


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Seconds a query may run before it is stopped (IGKG_TIMEOUT; default 30).")] = None,
    max_rows: Annotated[Optional[int], typer.Option("--max-rows", help="Most result rows/triples; more is an error (IGKG_MAX_ROWS; default 10000).")] = None,
    max_bytes: Annotated[Optional[int], typer.Option("--max-bytes", help="Largest result body in bytes; more is an error (IGKG_MAX_BYTES; default 67108864, 64 MiB).")] = None,
    max_body: Annotated[Optional[int], typer.Option("--max-body-bytes", help="Largest request body (IGKG_MAX_BODY_BYTES; default 1000000).")] = None,
    update_token_file: Annotated[Optional[Path], typer.Option("--update-token-file", help="File whose first line is the token enabling SPARQL UPDATE for requests with 'Authorization: Bearer TOKEN' (IGKG_UPDATE_TOKEN_FILE, or the token itself in IGKG_UPDATE_TOKEN).")] = None,
    allow_update: Annotated[Optional[str], typer.Option("--allow-update", hidden=True, help="Deprecated: the token on the command line is visible in 'ps'; use --update-token-file or IGKG_UPDATE_TOKEN.")] = None,
    allow_service: Annotated[Optional[list[str]], typer.Option("--allow-service", help="IRI prefix SERVICE/LOAD may reach (repeatable; IGKG_ALLOW_SERVICE).")] = None,
    cors_origin: Annotated[Optional[list[str]], typer.Option("--cors-origin", help="Origin allowed by CORS (repeatable; IGKG_CORS_ORIGINS); never with credentials.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Query worker processes (IGKG_WORKERS; default 2).")] = None,
    page_workers: Annotated[Optional[int], typer.Option("--page-workers", help="More worker processes kept for entity pages and named queries, so they stay served under heavy queries (IGKG_PAGE_WORKERS; default 1; 0 shares the query workers).")] = None,
    worker_memory: Annotated[Optional[int], typer.Option("--worker-memory", help="Heap bytes one worker may use; a query needing more is stopped (IGKG_WORKER_MEMORY; default 4294967296; 0 unbounded).")] = None,
) -> None:
    """Serve the store over HTTP: SPARQL 1.1 Protocol at /sparql, the query page at /."""
    import uvicorn

    from kg.core.errors import ConfigError, IgkgError
    from kg.endpoint import EndpointConfig, create_app
    from kg.endpoint.config import read_token_file
    from kg.store import store_location

    try:
        token = allow_update
        if allow_update is not None:
            typer.echo(
                "igkg: warning: --allow-update TOKEN is deprecated: any user can read it with 'ps'; "
                "put the token in a file (--update-token-file) or in IGKG_UPDATE_TOKEN",
                err=True,
            )
        if update_token_file is not None:
            token = read_token_file(update_token_file)
        location = store_location(store_option(ctx))
        if "://" in location:
            raise ConfigError(f"igkg serve serves a local store folder, not {location}")
        if not Path(location).exists():
            raise ConfigError(f"no store at {location} (build one with 'igkg load', or give --store)")
        config = EndpointConfig.from_env(
            timeout=timeout,
            max_rows=max_rows,
            max_body_bytes=max_body,
            max_bytes=max_bytes,
            update_token=token,
            allowed_service_prefixes=allow_service,
            cors_origins=cors_origin,
            workers=workers,
            page_workers=page_workers,
            worker_memory=worker_memory,
        )
        app = create_app(location, config)
    except (IgkgError, OSError) as exc:
        fail(exc)
    typer.echo(f"igkg: serving {location} at http://{host}:{port}/ (SPARQL at /sparql)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
