"""Query evaluation in worker processes that can be killed: the timeout really stops a query.

Oxigraph cannot cancel a running query from Python, so every query is evaluated in one
of a few worker processes, each holding the on-disk store open read-only
(``pyoxigraph.Store.read_only``). The web process waits for the answer at most
``timeout`` seconds; past that it kills the worker, starts a fresh one and answers 503.
Nothing partial is ever sent: a worker returns the whole serialised result or an error.
The web process itself never evaluates SPARQL, so ``/health`` and other requests stay
responsive while a heavy query runs.

An update needs the store open for writing, which no reader may hold meanwhile (RocksDB
read-only readers beside a writer are undefined behaviour): the pool is drained (running
queries finish, within the timeout), its workers stopped, the update runs in a
short-lived writer process under the same timeout, then the readers start again.

What a worker serves: the store as it was when the worker opened it (a read-only open is a
snapshot), with the dataset of ``KnowledgeGraph.raw_query`` (only catalogued graphs of
igkg's graph space, so never a load in progress or the remains of an interrupted one).
Every job carries the store ``generation`` the web process saw when the request came; a
worker opened at another generation reopens the store first, so after a commit (an
``igkg load`` beside the server) every answer, on every worker, is of the new version.

Limits besides the timeout: a result is refused past ``max_rows`` rows or ``max_bytes``
bytes (counted while it is serialised, so a huge answer is never built whole), and a
worker's heap is bounded (``RLIMIT_DATA``): a query that needs more stops its worker,
which is replaced. Idle workers go to waiting requests fairly (``FairQueue``): the client
with the fewest queries running first, then the one served least recently.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

from kg.core.errors import IgkgError, QueryRefused, QueryTimeout, StoreError

__all__ = ["Answer", "FairQueue", "Job", "WorkerPool", "execute", "run_update"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Largest result body (bytes) unless configured (``--max-bytes`` / ``IGKG_MAX_BYTES``)."""

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Job:
    """One query for a worker: the text, the protocol dataset and the wanted format."""

    text: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    accept: str | None = None
    format: str | None = None
    max_rows: int = 10_000
    allowed_service: tuple[str, ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    generation: int = 0
    """The store generation the web process saw; a worker opened at another one reopens first."""


@dataclass(frozen=True)
class Answer:
    """A worker's reply: the serialised body and its media type, or the error to raise."""

    body: bytes = b""
    media_type: str = ""
    form: str = ""
    rows: int = 0
    error: tuple[str, str] | None = field(default=None)

    def raise_error(self) -> None:
        """Re-raise the worker's error in the web process (as the same igkg error class)."""
        if self.error is None:
            return
        name, message = self.error
        raise _error_class(name)(message)


def _error_class(name: str) -> type[Exception]:
    import kg.core.errors as core_errors
    import kg.endpoint.errors as endpoint_errors

    for module in (endpoint_errors, core_errors):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, IgkgError):
            return cls
    return StoreError


class _Overflow(Exception):
    """Raised by the capped writer to stop serialisation past the row or byte cap."""


class _CappedXml:
    """A binary sink for Oxigraph's SPARQL XML writer that stops after ``cap`` solutions
    or ``byte_cap`` bytes.

    Each solution is one ``<result>`` element (``<result/>`` when it binds nothing); ``<``
    never occurs unescaped in values, so counting the tags counts the rows exactly.
    """

    _TAGS = (b"<result>", b"<result/>")

    def __init__(self, cap: int, byte_cap: int) -> None:
        self.cap = cap
        self.byte_cap = byte_cap
        self.rows = 0
        self.size = 0
        self.chunks: list[bytes] = []
        self._tail = b""

    @property
    def over(self) -> bool:
        """Whether a cap was passed."""
        return self.rows > self.cap or self.size > self.byte_cap

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        window = self._tail + chunk  # a tag may straddle two writes; the tail is too short to hold a whole one
        self.rows += sum(window.count(tag) for tag in self._TAGS)
        self._tail = window[-8:]
        self.size += len(chunk)
        if self.over:
            raise _Overflow
        self.chunks.append(chunk)
        return len(chunk)

    def flush(self) -> None:
        """Nothing buffered here."""


def _too_many(job: Job, what: str = "rows") -> Exception:
    from kg.endpoint.errors import ResultTooLarge

    return ResultTooLarge(
        f"the result has more than {job.max_rows} {what}, this endpoint's cap (--max-rows / IGKG_MAX_ROWS); "
        "add a LIMIT or narrow the query"
    )


def _too_big(job: Job) -> Exception:
    from kg.endpoint.errors import ResponseTooLarge

    return ResponseTooLarge(
        f"the result is larger than {job.max_bytes} bytes, this endpoint's cap (--max-bytes / IGKG_MAX_BYTES), "
        "and was not sent; select fewer or shorter values, or add a LIMIT"
    )


def _visible(kg: Any, iris: Sequence[str] | None) -> list[str] | None:
    """The protocol dataset without graphs of igkg's space that are not committed (as if empty)."""
    if iris is None:
        return None
    from kg.core.namespaces import CATALOG_GRAPH, GRAPH_BASE

    committed = set(kg.data_graphs()) | {CATALOG_GRAPH}
    return [iri for iri in iris if not iri.startswith(GRAPH_BASE) or iri in committed]


def execute(kg: Any, job: Job) -> Answer:
    """Check, evaluate and serialise one query against an open ``KnowledgeGraph``.

    :raises ResultTooLarge: more than ``job.max_rows`` solutions or triples.
    :raises ResponseTooLarge: a body of more than ``job.max_bytes`` bytes.
    """
    import pyoxigraph as ox

    from kg.core.namespaces import CATALOG_GRAPH, GRAPH_BASE
    from kg.endpoint.formats import choose
    from kg.endpoint.guard import check_query

    info = check_query(job.text, job.allowed_service)
    fmt = choose(info.form, job.accept, job.format)
    if info.dataset:
        committed = set(kg.data_graphs()) | {CATALOG_GRAPH}
        for iri in info.dataset:
            if iri.startswith(GRAPH_BASE) and iri not in committed:
                raise QueryRefused(f"FROM <{iri}>: no committed graph of this store has that name (see the service description)")
    result = kg.raw_query(
        job.text,
        union=not info.has_dataset,
        default_graph=_visible(kg, job.default_graphs),
        named_graphs=_visible(kg, job.named_graphs),
        own_dataset=info.has_dataset,
    )
    if isinstance(result, ox.QueryBoolean):
        assert fmt.results is not None
        return Answer(body=result.serialize(format=fmt.results), media_type=fmt.media_type, form=info.form)
    if isinstance(result, ox.QuerySolutions):
        assert fmt.results is not None
        # The XML is the lossless intermediate; it may be larger than the body asked for, so it
        # gets twice the byte cap and the body is checked again below.
        sink = _CappedXml(job.max_rows, 2 * job.max_bytes)
        try:
            result.serialize(sink, format=ox.QueryResultsFormat.XML)
        except _Overflow:
            raise (_too_many(job) if sink.rows > job.max_rows else _too_big(job)) from None
        except OSError as exc:  # Oxigraph wraps the writer's exception
            if sink.over:
                raise (_too_many(job) if sink.rows > job.max_rows else _too_big(job)) from None
            raise StoreError(f"query evaluation failed: {exc}") from None
        xml = b"".join(sink.chunks)
        sink.chunks.clear()
        if fmt.results == ox.QueryResultsFormat.XML:
            body = xml
        else:
            # Re-read the complete (capped) XML, which keeps every term exactly, and write the wanted format.
            body = ox.parse_query_results(xml, format=ox.QueryResultsFormat.XML).serialize(format=fmt.results)
        if len(body) > job.max_bytes:
            raise _too_big(job)
        return Answer(body=body, media_type=fmt.media_type, form=info.form, rows=sink.rows)
    triples = []
    size = 0
    for triple in result:
        triples.append(triple)
        if len(triples) > job.max_rows:
            raise _too_many(job, "triples")
        size += sum(len(getattr(term, "value", "")) for term in (triple.subject, triple.predicate, triple.object)) + 8
        if size > job.max_bytes:
            raise _too_big(job)
    assert fmt.rdf is not None
    from kg.core.namespaces import PREFIXES

    if fmt.rdf.supports_datasets:
        body = ox.serialize([ox.Quad(t.subject, t.predicate, t.object) for t in triples], format=fmt.rdf)
    elif fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        body = ox.serialize(triples, format=fmt.rdf, prefixes=_used_prefixes(triples, PREFIXES))
    else:
        body = ox.serialize(triples, format=fmt.rdf)
    if body is not None and len(body) > job.max_bytes:
        raise _too_big(job)
    return Answer(body=body or b"", media_type=fmt.media_type, form=info.form, rows=len(triples))


def _used_prefixes(triples: Sequence[Any], prefixes: dict[str, str]) -> dict[str, str]:
    """Only the prefixes the triples use (Turtle then declares only those)."""
    iris = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            value = getattr(term, "value", None)
            if value is not None and type(term).__name__ == "NamedNode":
                iris.add(value)
            datatype = getattr(term, "datatype", None)
            if datatype is not None:
                iris.add(datatype.value)
    return {p: base for p, base in prefixes.items() if any(i.startswith(base) for i in iris)}


def _failure(exc: BaseException) -> Answer:
    if isinstance(exc, IgkgError):
        return Answer(error=(type(exc).__name__, str(exc)))
    if isinstance(exc, SyntaxError):
        return Answer(error=("QuerySyntaxError", str(exc)))
    logger.exception("query failed")
    return Answer(error=("StoreError", f"query evaluation failed: {type(exc).__name__}: {exc}"))


def _limit_memory(limit: int) -> None:
    """Bound this process's heap (``RLIMIT_DATA``) to ``limit`` bytes; 0 leaves it unbounded."""
    if limit <= 0:
        return
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (ImportError, ValueError, OSError) as exc:  # not on this platform
        logger.warning("cannot bound the query worker's memory: %s", exc)


def _open(location: str, attempts: int = 1) -> Any:
    """The store read-only; a writer deleting files meanwhile can fail an open, so retry a little."""
    from kg.store import KnowledgeGraph

    for attempt in range(attempts):
        try:
            return KnowledgeGraph(location, read_only=True)
        except (StoreError, OSError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


def _serve(conn: Connection, location: str, generation: int = 0, memory: int = 0) -> None:
    """A worker process: open the store read-only, then answer jobs until the pipe closes.

    A job of another ``generation`` than the open store's makes the worker reopen the store
    first (a read-only open is a snapshot); if that fails it answers busy, never stale.
    """
    _limit_memory(memory)
    try:
        kg = _open(location)
        from kg.endpoint import guard

        check = guard.check_query("ASK {}")
        assert check.form == "ASK"
    except BaseException as exc:  # report why the worker cannot start, then stop
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", ""))
    opened = generation
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            if job.generation != opened:
                fresh = _open(location, attempts=5)
                kg.close()
                kg, opened = fresh, job.generation
            try:
                answer = execute(kg, job)
            except (OSError, StoreError) as exc:
                if "No such file" not in str(exc):
                    raise
                # A writer beside the server removed files this snapshot had not opened yet:
                # read the store as it is now and answer from that.
                fresh = _open(location, attempts=5)
                kg.close()
                kg = fresh
                answer = execute(kg, job)
        except BaseException as exc:
            answer = _failure(exc) if job.generation == opened else _reopen_failure(exc)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return


def _reopen_failure(exc: BaseException) -> Answer:
    logger.warning("cannot reopen the store after a change: %s", exc)
    return Answer(error=("EndpointBusy", "the store is being changed; try again in a moment"))


def _update_main(conn: Connection, location: str, text: str, allowed: tuple[str, ...]) -> None:
    """A short-lived writer process: check and run one update, report, exit."""
    from kg.endpoint.guard import check_update
    from kg.store import KnowledgeGraph

    try:
        check_update(text, allowed)
        with KnowledgeGraph(location) as kg:
            kg.update(text)
        conn.send(Answer())
    except BaseException as exc:
        conn.send(_failure(exc))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, location: str, start_timeout: float, generation: int = 0, memory: int = 0) -> None:
        parent, child = _CONTEXT.Pipe()
        self.conn = parent
        self.process = _CONTEXT.Process(
            target=_serve, args=(child, location, generation, memory), name="igkg-sparql-worker", daemon=True
        )
        self.process.start()
        child.close()
        if not parent.poll(start_timeout):
            self.kill()
            raise StoreError(f"a query worker did not start within {start_timeout:.0f} s")
        try:
            status, message = parent.recv()
        except EOFError:
            self.kill()
            raise StoreError(
                "a query worker exited while starting; workers are started with multiprocessing's "
                "'spawn', so a script that builds the app must do so under if __name__ == '__main__':"
            ) from None
        if status != "ready":
            self.kill()
            raise StoreError(f"a query worker could not open the store at {location}: {message}")

    def call(self, job: Job, timeout: float) -> Answer | None:
        """The answer, or ``None`` when the worker ran past ``timeout`` (it is then dead)."""
        self.conn.send(job)
        if not self.conn.poll(timeout):
            self.kill()
            return None
        return self.conn.recv()

    def kill(self) -> None:
        """Stop the process at once (SIGKILL) and reap it."""
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(10)
        with contextlib.suppress(Exception):
            self.conn.close()

    def stop(self) -> None:
        """Ask the worker to exit, then make sure it did."""
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        with contextlib.suppress(Exception):
            self.conn.close()


@dataclass(eq=False)
class _Waiter:
    client: str
    order: int
    future: asyncio.Future[Any]


class FairQueue:
    """Idle workers handed to waiting requests fairly, not first come first served.

    When a worker is free and several requests wait, it goes to the client with the fewest
    queries running, then the one served least recently, then the oldest request: a client
    looping expensive queries holds at most its share while others wait, and a client that
    sends one cheap request is served at the next free worker.
    """

    def __init__(self) -> None:
        self._idle: list[Any] = []
        self._waiting: list[_Waiter] = []
        self._running: Counter[str] = Counter()
        self._served: dict[str, float] = {}
        self._order = itertools.count()

    def put(self, worker: Any) -> None:
        """Add a worker (new, or done with its request) and hand it on if someone waits."""
        while self._waiting:
            waiter = min(self._waiting, key=self._rank)
            self._waiting.remove(waiter)
            if not waiter.future.done():
                self._grant(waiter.client)
                waiter.future.set_result(worker)
                return
        self._idle.append(worker)

    def _rank(self, waiter: _Waiter) -> tuple[int, float, int]:
        return (self._running[waiter.client], self._served.get(waiter.client, 0.0), waiter.order)

    def _grant(self, client: str) -> None:
        self._running[client] += 1
        self._served[client] = time.monotonic()

    def done(self, client: str) -> None:
        """A request of ``client`` finished (call before ``put`` of its worker)."""
        self._running[client] -= 1
        if self._running[client] <= 0:
            del self._running[client]

    async def get(self, client: str, timeout: float) -> Any:
        """A worker for ``client`` within ``timeout`` seconds; raises ``TimeoutError``."""
        if self._idle and not self._waiting:
            self._grant(client)
            return self._idle.pop()
        waiter = _Waiter(client, next(self._order), asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.future), timeout)
        except (TimeoutError, asyncio.CancelledError):
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.future.done() and not waiter.future.cancelled():
                # granted just as the wait ended: give the worker back
                self.done(client)
                self.put(waiter.future.result())
            raise

    def take_idle(self) -> list[Any]:
        """Remove and return every idle worker."""
        idle, self._idle = self._idle, []
        return idle

    def idle(self) -> int:
        """How many workers are idle."""
        return len(self._idle)


class WorkerPool:
    """A fixed number of query worker processes over one on-disk store.

    ``await pool.run(job, client)`` evaluates a query within ``timeout`` seconds or raises
    ``QueryTimeout`` (the worker is killed and replaced); a request waits for a free worker
    at most ``wait`` seconds (``EndpointBusy``), served fairly across clients.
    ``async with pool.paused():`` stops every worker (after the running queries) and starts
    fresh ones afterwards, for an update.
    """

    def __init__(
        self,
        location: str,
        *,
        size: int,
        timeout: float,
        memory: int = 0,
        wait: float | None = None,
        name: str = "query",
    ) -> None:
        self.location = location
        self.size = size
        self.timeout = timeout
        self.memory = memory
        self.wait = wait if wait is not None else 2 * timeout + 5
        self.name = name
        self.start_timeout = max(60.0, timeout)
        self._queue: FairQueue | None = None
        self._executor = ThreadPoolExecutor(max_workers=size + 2, thread_name_prefix=f"igkg-{name}-pool")
        self._workers: set[_Worker] = set()
        self._guard = threading.Lock()
        self.generation = 0
        """The store generation jobs are stamped with (the service raises it when the store changes)."""

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start every worker (each opens the store); raises ``StoreError`` if one cannot."""
        self._queue = FairQueue()
        for worker in await self._spawn_all():
            self._queue.put(worker)

    async def _spawn_all(self) -> list[_Worker]:
        loop = asyncio.get_running_loop()
        spawned = await asyncio.gather(
            *(loop.run_in_executor(self._executor, self._spawn) for _ in range(self.size)), return_exceptions=True
        )
        workers = [w for w in spawned if isinstance(w, _Worker)]
        errors = [e for e in spawned if not isinstance(e, _Worker)]
        if errors and not workers:
            raise errors[0]  # type: ignore[misc]
        for error in errors:
            logger.error("cannot start a %s worker: %s", self.name, error)
        return workers

    def _spawn(self) -> _Worker:
        worker = _Worker(self.location, self.start_timeout, self.generation, self.memory)
        with self._guard:
            self._workers.add(worker)
        return worker

    def _forget(self, worker: _Worker) -> None:
        with self._guard:
            self._workers.discard(worker)

    async def close(self) -> None:
        """Stop every worker."""
        with self._guard:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def alive(self) -> int:
        """How many worker processes are running."""
        with self._guard:
            return sum(1 for w in self._workers if w.process.is_alive())

    # ---------------------------------------------------------------- queries
    async def run(self, job: Job, client: str = "") -> Answer:
        """Evaluate one query in a worker; raises the worker's error, ``QueryTimeout`` or ``EndpointBusy``."""
        from kg.endpoint.errors import EndpointBusy

        assert self._queue is not None, "the pool is not started"
        try:
            worker = await self._queue.get(client, self.wait)
        except TimeoutError:
            raise EndpointBusy(
                f"every {self.name} worker stayed busy for {self.wait:.0f} s; try again later"
            ) from None
        loop = asyncio.get_running_loop()
        job = replace(job, generation=self.generation)
        answer = await loop.run_in_executor(self._executor, self._call, worker, job, loop, client)
        if answer is None:
            raise QueryTimeout(
                f"the query ran longer than {self.timeout:g} s, this endpoint's limit "
                "(--timeout / IGKG_TIMEOUT), and was stopped; no results were sent"
            )
        answer.raise_error()
        return answer

    def _call(self, worker: _Worker, job: Job, loop: asyncio.AbstractEventLoop, client: str) -> Answer | None:
        """Run in a thread: ask the worker; on timeout or crash replace it. Always returns a worker to the pool."""
        replacement: _Worker | None = worker
        answer: Answer | None
        try:
            answer = worker.call(job, self.timeout)
            if answer is None:
                logger.warning("query stopped after %.1f s; restarting its worker", self.timeout)
        except (EOFError, OSError) as exc:
            logger.error("a query worker died (%s); restarting it", exc)
            worker.kill()
            limit = f" or needed more than its {self.memory} bytes of memory (IGKG_WORKER_MEMORY)" if self.memory else ""
            answer = Answer(error=("StoreError", f"the query worker stopped while evaluating this query (it crashed{limit})"))
        if not worker.process.is_alive():
            self._forget(worker)
            replacement = None
            try:
                replacement = self._spawn()
            except StoreError as exc:
                logger.error("cannot restart a query worker: %s", exc)
        loop.call_soon_threadsafe(self._release, replacement, client)
        return answer

    def _release(self, worker: _Worker | None, client: str) -> None:
        assert self._queue is not None
        self._queue.done(client)
        if worker is not None:
            self._queue.put(worker)

    # ---------------------------------------------------------------- pausing for updates
    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Take every worker (waiting for running queries), stop them, and start fresh ones after.

        :raises EndpointBusy: queries kept the workers busy for ``wait`` seconds.
        """
        from kg.endpoint.errors import EndpointBusy

        assert self._queue is not None
        taken: list[_Worker] = []
        try:
            for _ in range(len(self._workers)):
                taken.append(await self._queue.get("igkg-update", self.wait))
        except TimeoutError:
            for worker in taken:
                self._queue.done("igkg-update")
                self._queue.put(worker)
            raise EndpointBusy(f"queries kept the store busy for {self.wait:.0f} s; update not run") from None
        for worker in taken:
            self._queue.done("igkg-update")
            self._forget(worker)
            worker.stop()
        try:
            yield
        finally:
            for worker in await self._spawn_all():
                self._queue.put(worker)


def run_update(location: str, text: str, allowed: tuple[str, ...], timeout: float) -> Answer | None:
    """Run an update in a writer process; ``None`` if it was killed at the timeout."""
    parent, child = _CONTEXT.Pipe()
    process = _CONTEXT.Process(target=_update_main, args=(child, location, text, allowed), name="igkg-sparql-update", daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            process.kill()
            return None
        return parent.recv()
    except EOFError:
        return Answer(error=("StoreError", "the update process died"))
    finally:
        process.join(10)
        parent.close()
