"""The running endpoint's state: the store location, the config and the worker pool.

``SparqlService`` is what the router, the pages and ``create_app`` share. It starts its
worker pool on first use (or explicitly with ``start()``), so the router also works
mounted into an application that does not know about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kg.endpoint.config import EndpointConfig
from kg.endpoint.workers import Answer, Job, WorkerPool
from kg.core.errors import StoreError

__all__ = ["SparqlService", "snapshot"]

logger = logging.getLogger(__name__)


def snapshot(kg: Any) -> str:
    """Copy an open ``KnowledgeGraph`` into a new temporary on-disk store; returns its folder.

    Used for in-memory graphs (and on-disk ones open for writing): worker processes can
    only share a store on disk. Later changes to ``kg`` are not seen by the endpoint.
    """
    import pyoxigraph as ox

    folder = tempfile.mkdtemp(prefix="igkg-serve-")
    store = ox.Store(folder)
    store.bulk_extend(kg.store.quads_for_pattern(None, None, None, None))
    store.flush()
    del store
    return folder


class SparqlService:
    """A store served through a pool of query workers, with the limits of ``config``."""

    def __init__(self, location: str, config: EndpointConfig, *, owns_location: bool = False) -> None:
        if not Path(location, "CURRENT").exists():
            raise StoreError(f"no store at {location} (build one with 'igkg load', or give --store)")
        self.location = location
        self.config = config
        self.owns_location = owns_location
        self.pool = WorkerPool(location, size=config.workers, timeout=config.timeout)
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self._cache: dict[str, tuple[int, Any]] = {}

    async def start(self) -> None:
        """Start the worker pool (idempotent)."""
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await self.pool.start()
                self._started = True
                logger.info("serving %s with %d query workers", self.location, self.config.workers)

    async def close(self) -> None:
        """Stop the workers (and remove a temporary snapshot store)."""
        if self._started:
            await self.pool.close()
            self._started = False
        if self.owns_location:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.location)

    async def run(self, job: Job) -> Answer:
        """Evaluate a query job in a worker (starting the pool if needed)."""
        await self.start()
        return await self.pool.run(job)

    async def update(self, text: str) -> None:
        """Run a SPARQL update (the caller has checked the token)."""
        await self.start()
        await self.pool.update(text, self.config.allowed_service_prefixes)
        self._cache.clear()

    async def select(self, sparql: str, *, max_rows: int | None = None) -> list[dict[str, Any]]:
        """Run an internal SELECT and return its bindings as SPARQL-JSON dicts."""
        job = Job(
            text=sparql,
            accept="application/sparql-results+json",
            max_rows=max_rows or self.config.max_rows,
        )
        answer = await self.run(job)
        return json.loads(answer.body)["results"]["bindings"]

    async def cached(self, key: str, factory: Any) -> Any:
        """A value computed once per store generation (updates invalidate it)."""
        entry = self._cache.get(key)
        if entry is not None and entry[0] == self.pool.generation:
            return entry[1]
        value = await factory()
        self._cache[key] = (self.pool.generation, value)
        return value
