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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from kg.core.errors import IgkgError, QueryTimeout, StoreError

__all__ = ["Answer", "Job", "WorkerPool", "execute", "run_update"]

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
    import kg.endpoint.errors as endpoint_errors
    import kg.core.errors as core_errors

    for module in (endpoint_errors, core_errors):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, IgkgError):
            return cls
    return StoreError


class _Overflow(Exception):
    """Raised by the capped writer to stop serialisation past the row cap."""


class _CappedXml:
    """A binary sink for Oxigraph's SPARQL XML writer that stops after ``cap`` solutions.

    Each solution is one ``<result>`` element (``<result/>`` when it binds nothing); ``<``
    never occurs unescaped in values, so counting the tags counts the rows exactly.
    """

    _TAGS = (b"<result>", b"<result/>")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.rows = 0
        self.chunks: list[bytes] = []
        self._tail = b""

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        window = self._tail + chunk  # a tag may straddle two writes; the tail is too short to hold a whole one
        self.rows += sum(window.count(tag) for tag in self._TAGS)
        self._tail = window[-8:]
        if self.rows > self.cap:
            raise _Overflow
        self.chunks.append(chunk)
        return len(chunk)

    def flush(self) -> None:
        """Nothing buffered here."""


def execute(kg: Any, job: Job) -> Answer:
    """Check, evaluate and serialise one query against an open ``KnowledgeGraph``."""
    import pyoxigraph as ox

    from kg.endpoint.errors import ResultTooLarge
    from kg.endpoint.formats import choose
    from kg.endpoint.guard import check_query

    info = check_query(job.text, job.allowed_service)
    fmt = choose(info.form, job.accept, job.format)
    result = kg.raw_query(
        job.text,
        union=not info.has_dataset,
        default_graph=list(job.default_graphs) if job.default_graphs is not None else None,
        named_graphs=list(job.named_graphs) if job.named_graphs is not None else None,
    )
    too_many = ResultTooLarge(
        f"the result has more than {job.max_rows} rows, this endpoint's cap (--max-rows / IGKG_MAX_ROWS); "
        "add a LIMIT or narrow the query"
    )
    if isinstance(result, ox.QueryBoolean):
        assert fmt.results is not None
        return Answer(body=result.serialize(format=fmt.results), media_type=fmt.media_type, form=info.form)
    if isinstance(result, ox.QuerySolutions):
        assert fmt.results is not None
        sink = _CappedXml(job.max_rows)
        try:
            result.serialize(sink, format=ox.QueryResultsFormat.XML)
        except _Overflow:
            raise too_many from None
        except OSError as exc:  # Oxigraph wraps the writer's exception
            if sink.rows > job.max_rows:
                raise too_many from None
            raise StoreError(f"query evaluation failed: {exc}") from None
        xml = b"".join(sink.chunks)
        if fmt.results == ox.QueryResultsFormat.XML:
            return Answer(body=xml, media_type=fmt.media_type, form=info.form, rows=sink.rows)
        # Re-read the complete (capped) XML, which keeps every term exactly, and write the wanted format.
        body = ox.parse_query_results(xml, format=ox.QueryResultsFormat.XML).serialize(format=fmt.results)
        return Answer(body=body, media_type=fmt.media_type, form=info.form, rows=sink.rows)
    triples = []
    for triple in result:
        triples.append(triple)
        if len(triples) > job.max_rows:
            raise ResultTooLarge(
                f"the result has more than {job.max_rows} triples, this endpoint's cap "
                "(--max-rows / IGKG_MAX_ROWS); add a LIMIT or narrow the query"
            )
    assert fmt.rdf is not None
    from kg.core.namespaces import PREFIXES

    if fmt.rdf.supports_datasets:
        body = ox.serialize([ox.Quad(t.subject, t.predicate, t.object) for t in triples], format=fmt.rdf)
    elif fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        body = ox.serialize(triples, format=fmt.rdf, prefixes=_used_prefixes(triples, PREFIXES))
    else:
        body = ox.serialize(triples, format=fmt.rdf)
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


def _serve(conn: Connection, location: str) -> None:
    """A worker process: open the store read-only, then answer jobs until the pipe closes."""
    from kg.store import KnowledgeGraph

    try:
        kg = KnowledgeGraph(location, read_only=True)
        from kg.endpoint import guard  # noqa: F401 - import rdflib's parser before the first job

        check = guard.check_query("ASK {}")
        assert check.form == "ASK"
    except BaseException as exc:  # report why the worker cannot start, then stop
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", ""))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            answer = execute(kg, job)
        except BaseException as exc:
            answer = _failure(exc)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return


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

    def __init__(self, location: str, start_timeout: float) -> None:
        parent, child = _CONTEXT.Pipe()
        self.conn = parent
        self.process = _CONTEXT.Process(target=_serve, args=(child, location), name="igkg-sparql-worker", daemon=True)
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


class WorkerPool:
    """A fixed number of query worker processes over one on-disk store.

    ``await pool.run(job)`` evaluates a query within ``timeout`` seconds or raises
    ``QueryTimeout`` (the worker is killed and replaced); ``await pool.update(text)``
    runs an update with the store to itself.
    """

    def __init__(self, location: str, *, size: int, timeout: float) -> None:
        self.location = location
        self.size = size
        self.timeout = timeout
        self.start_timeout = max(60.0, timeout)
        self._idle: asyncio.Queue[_Worker] | None = None
        self._executor = ThreadPoolExecutor(max_workers=size + 2, thread_name_prefix="igkg-pool")
        self._update_lock: asyncio.Lock | None = None
        self._workers: set[_Worker] = set()
        self._guard = threading.Lock()
        self.generation = 0
        """Counts store changes made through the pool (caches compare it)."""

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start every worker (each opens the store); raises ``StoreError`` if one cannot."""
        loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        self._update_lock = asyncio.Lock()
        workers = await asyncio.gather(*(loop.run_in_executor(self._executor, self._spawn) for _ in range(self.size)))
        for worker in workers:
            self._idle.put_nowait(worker)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.location, self.start_timeout)
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
    async def run(self, job: Job) -> Answer:
        """Evaluate one query in a worker; raises the worker's error, or ``QueryTimeout``."""
        from kg.endpoint.errors import EndpointBusy

        assert self._idle is not None, "the pool is not started"
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout=self.timeout)
        except TimeoutError:
            raise EndpointBusy(
                f"every query worker stayed busy for {self.timeout:.0f} s; try again later"
            ) from None
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._executor, self._call, worker, job, loop)
        if answer is None:
            raise QueryTimeout(
                f"the query ran longer than {self.timeout:g} s, this endpoint's limit "
                "(--timeout / IGKG_TIMEOUT), and was stopped; no results were sent"
            )
        answer.raise_error()
        return answer

    def _call(self, worker: _Worker, job: Job, loop: asyncio.AbstractEventLoop) -> Answer | None:
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
            answer = Answer(error=("StoreError", "the query worker died while evaluating this query"))
        if not worker.process.is_alive():
            self._forget(worker)
            replacement = None
            try:
                replacement = self._spawn()
            except StoreError as exc:
                logger.error("cannot restart a query worker: %s", exc)
        if replacement is not None:
            loop.call_soon_threadsafe(self._idle.put_nowait, replacement)  # type: ignore[union-attr]
        return answer

    # ---------------------------------------------------------------- updates
    async def update(self, text: str, allowed: Sequence[str]) -> None:
        """Run one SPARQL update with no reader open; raises its error or ``QueryTimeout``."""
        from kg.endpoint.errors import EndpointBusy

        assert self._idle is not None and self._update_lock is not None
        loop = asyncio.get_running_loop()
        async with self._update_lock:
            taken: list[_Worker] = []
            try:
                for _ in range(self.size):
                    taken.append(await asyncio.wait_for(self._idle.get(), timeout=self.timeout))
            except TimeoutError:
                for worker in taken:
                    self._idle.put_nowait(worker)
                raise EndpointBusy(f"queries kept the store busy for {self.timeout:.0f} s; update not run") from None
            for worker in taken:
                self._forget(worker)
                worker.stop()
            try:
                answer = await loop.run_in_executor(self._executor, run_update, self.location, text, tuple(allowed), self.timeout)
            finally:
                self.generation += 1
                fresh = await asyncio.gather(
                    *(loop.run_in_executor(self._executor, self._spawn) for _ in range(self.size)),
                    return_exceptions=True,
                )
                for worker in fresh:
                    if isinstance(worker, _Worker):
                        self._idle.put_nowait(worker)
                    else:
                        logger.error("cannot restart a query worker after an update: %s", worker)
        if answer is None:
            raise QueryTimeout(
                f"the update ran longer than {self.timeout:g} s, this endpoint's limit, and was stopped; "
                "it was not committed"
            )
        answer.raise_error()


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
