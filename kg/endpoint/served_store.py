"""The running endpoint's state: the store location, the config and the worker pool.

``SparqlService`` is what the router, the pages and ``create_app`` share. It starts its
worker pools on first use (or explicitly with ``start()``), so the router also works
mounted into an application that does not know about it.

Two pools: ``pool`` for SPARQL requests and ``pages`` (``page_workers`` processes) for
entity pages and named queries, so those keep being served while clients keep every query
worker busy. Before each request the service looks at the store's files (RocksDB's
``CURRENT``, manifest and write-ahead logs: what a writer changes when it commits, e.g. an
``igkg load`` beside the server); when they changed, it raises the store generation, and
each worker reopens the store before its next answer, so every worker answers from the
new version from then on (the dataset of every query being the catalogued graphs, a load
still in progress is not seen).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kg.core.errors import QueryTimeout, StoreError
from kg.endpoint.config import EndpointConfig
from kg.endpoint.workers import Answer, Job, WorkerPool, run_update

__all__ = ["SparqlService", "snapshot", "store_signature"]

QUERY_LANE = "query"
PAGE_LANE = "pages"


def store_signature(location: str) -> tuple[tuple[str, int, int], ...]:
    """What a commit to the on-disk store at ``location`` changes: name, size and mtime of
    RocksDB's ``CURRENT``, ``MANIFEST-*`` and write-ahead ``*.log`` files."""
    entries = []
    try:
        with os.scandir(location) as folder:
            for entry in folder:
                name = entry.name
                if name == "CURRENT" or name.startswith("MANIFEST-") or name.endswith(".log"):
                    with contextlib.suppress(OSError):
                        info = entry.stat()
                        entries.append((name, info.st_size, info.st_mtime_ns))
    except OSError:
        return ()
    return tuple(sorted(entries))

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
        self.pool = WorkerPool(location, size=config.workers, timeout=config.timeout, memory=config.worker_memory)
        self.pages = (
            WorkerPool(location, size=config.page_workers, timeout=config.timeout, memory=config.worker_memory, name="page")
            if config.page_workers
            else None
        )
        self.generation = 0
        """Counts store changes seen (updates through the endpoint, commits beside it); caches compare it."""
        self._signature = store_signature(location)
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self._cache: dict[str, tuple[int, Any]] = {}

    def _pools(self) -> list[WorkerPool]:
        return [self.pool] + ([self.pages] if self.pages is not None else [])

    async def start(self) -> None:
        """Start the worker pools (idempotent)."""
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await asyncio.gather(*(pool.start() for pool in self._pools()))
                self._started = True
                logger.info(
                    "serving %s with %d query workers and %d page workers",
                    self.location, self.config.workers, self.config.page_workers,
                )

    async def close(self) -> None:
        """Stop the workers (and remove a temporary snapshot store)."""
        if self._started:
            for pool in self._pools():
                await pool.close()
            self._started = False
        if self.owns_location:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.location)

    def alive(self) -> int:
        """How many worker processes (of both pools) are running."""
        return sum(pool.alive() for pool in self._pools())

    def refresh(self) -> int:
        """Raise the generation if the store's files changed since last seen; returns it."""
        signature = store_signature(self.location)
        if signature != self._signature:
            self._signature = signature
            self._advance()
        return self.generation

    def _advance(self) -> None:
        self.generation += 1
        for pool in self._pools():
            pool.generation = self.generation
        self._cache.clear()

    async def run(self, job: Job, *, client: str = "", lane: str = QUERY_LANE) -> Answer:
        """Evaluate a query job in a worker of ``lane`` (``query`` or ``pages``), fairly among clients."""
        await self.start()
        self.refresh()
        pool = self.pages if lane == PAGE_LANE and self.pages is not None else self.pool
        return await pool.run(job, client)

    async def update(self, text: str) -> None:
        """Run a SPARQL update (the caller has checked the token) with no worker holding the store."""
        await self.start()
        loop = asyncio.get_running_loop()
        async with contextlib.AsyncExitStack() as stack:
            for pool in self._pools():
                await stack.enter_async_context(pool.paused())
            try:
                answer = await loop.run_in_executor(
                    None, run_update, self.location, text, tuple(self.config.allowed_service_prefixes), self.config.timeout
                )
            finally:
                self._signature = store_signature(self.location)
                self._advance()
        if answer is None:
            raise QueryTimeout(
                f"the update ran longer than {self.config.timeout:g} s, this endpoint's limit, and was stopped; "
                "it was not committed"
            )
        answer.raise_error()

    async def select(self, sparql: str, *, max_rows: int | None = None, lane: str = QUERY_LANE) -> list[dict[str, Any]]:
        """Run an internal SELECT and return its bindings as SPARQL-JSON dicts."""
        job = Job(
            text=sparql,
            accept="application/sparql-results+json",
            max_rows=max_rows or self.config.max_rows,
            max_bytes=self.config.max_bytes,
        )
        answer = await self.run(job, client="igkg", lane=lane)
        return json.loads(answer.body)["results"]["bindings"]

    async def cached(self, key: str, factory: Any) -> Any:
        """A value computed once per store generation (changes invalidate it)."""
        self.refresh()
        entry = self._cache.get(key)
        if entry is not None and entry[0] == self.generation:
            return entry[1]
        generation = self.generation
        value = await factory()
        self._cache[key] = (generation, value)
        return value
