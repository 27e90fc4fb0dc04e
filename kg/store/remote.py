"""A remote SPARQL 1.1 server (Virtuoso, Fuseki, GraphDB, QLever, Neptune ...) as the store.

``RemoteKnowledgeGraph`` is ``kg.store.KnowledgeGraph`` opened on a ``RemoteStore`` backend
instead of the embedded pyoxigraph store: an HTTP client that offers the same few methods the knowledge graph
uses (``query``, ``update``, ``bulk_load``, ``bulk_extend``, ``named_graphs``,
``contains_named_graph``, ``remove_graph``, ``dump``, ``flush``) and returns the same
pyoxigraph result objects. So catalog records, graph IRIs, fingerprints, the
load-then-switch design, named queries, the networkx view and the endpoint are one code
path for both back ends.

How the protocol is used:

- queries: SPARQL 1.1 Protocol, ``POST`` form-encoded, results as SPARQL XML (parsed by
  ``pyoxigraph.parse_query_results``) or N-Triples for CONSTRUCT/DESCRIBE;
- dataset: by default (``IGKG_STORE_DATASET=catalog``) every query names its dataset with
  ``default-graph-uri``/``named-graph-uri``: the default graph is the union of the graphs
  the igkg catalog lists, the named graphs are those and the catalog itself. That is
  exactly the embedded store's dataset, on any server, and graphs of a load in progress
  stay invisible until the catalog switch. ``IGKG_STORE_DATASET=server`` leaves the dataset to the server (its
  default graph must then be the union: Virtuoso's ``/sparql``, Fuseki with
  ``tdb2:unionDefaultGraph``, GraphDB, Neptune);
- loads: SPARQL 1.1 Update ``INSERT DATA`` into the source's new versioned named graph in
  bounded chunks (``IGKG_STORE_CHUNK`` triples, default 1,000: Virtuoso's SPARQL parser runs out of stack near 5,000), then one update request
  that switches the catalog record, then ``DROP SILENT GRAPH`` of the old version.
  Chunked requests are not one transaction: a failed load leaves a partial graph that
  the catalog does not list (so no query sees it; ``recover()`` removes it). The catalog
  switch itself is one update request, which Virtuoso, Fuseki, GraphDB and Neptune run
  as one transaction. Blank nodes cannot span chunks, so a multi-chunk load replaces
  them with skolem IRIs (RDF 1.1, section 3.5) under ``<igkg>/.well-known/genid/``;
- credentials: ``IGKG_STORE_TOKEN`` (bearer) or ``IGKG_STORE_USER`` and
  ``IGKG_STORE_PASSWORD`` (HTTP Digest or Basic, whichever the server asks for; Virtuoso
  wants Digest on ``/sparql-auth``);
- transient failures (connection errors, 429, 502, 503, 504) are retried
  ``IGKG_STORE_RETRIES`` times (default 4) with exponential back-off from
  ``IGKG_STORE_BACKOFF`` seconds (default 0.5); ``IGKG_STORE_TIMEOUT`` (default 300 s)
  bounds one request.

>>> RemoteStore.endpoint_url("sparql+http://127.0.0.1:8890/sparql")
'http://127.0.0.1:8890/sparql'
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any

import httpx
import pyoxigraph as ox
from rdflib import Dataset
from rdflib.query import Result

from kg.core.errors import ConfigError, QuerySyntaxError, QueryTimeout, StoreError
from kg.core.namespaces import CATALOG_GRAPH, IGKG
from kg.core.settings import Settings
from kg.query.prefixes import strip_strings, with_prefixes
from kg.query.results import triples_to_graph
from kg.store.graph import KnowledgeGraph
from kg.store.spool import iter_chunks

__all__ = ["RemoteKnowledgeGraph", "RemoteStore", "RemoteTriples", "sparql_protocol_transport"]

logger = logging.getLogger(__name__)

SKOLEM_BASE = str(IGKG) + ".well-known/genid/"
"""Where blank nodes of multi-chunk remote loads are skolemised (RDF 1.1, section 3.5)."""

_TRANSIENT = frozenset({429, 502, 503, 504})
_XML = "application/sparql-results+xml"
_NT = "application/n-triples"
_FROM = re.compile(r"\bFROM\s+(NAMED\s+)?(<|[A-Za-z_][\w.-]*:|:)", re.IGNORECASE)
_GRAPH_IRI = re.compile(r"\bGRAPH\s*<([^<>\"{}|^`\\\s]*)>", re.IGNORECASE)


class _ChallengeAuth(httpx.Auth):
    """User and password sent as HTTP Digest or Basic, whichever the server's challenge asks for."""

    requires_request_body = True

    def __init__(self, user: str, password: str) -> None:
        self._digest = httpx.DigestAuth(user, password)
        self._basic = httpx.BasicAuth(user, password)
        self._scheme: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        if self._scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "").lower()
        if challenge.startswith("digest"):
            self._scheme = "digest"
            yield from self._digest.auth_flow(request)
        elif challenge.startswith("basic"):
            self._scheme = "basic"
            yield from self._basic.auth_flow(request)


class RemoteTriples:
    """The triples of a remote CONSTRUCT/DESCRIBE, shaped like ``pyoxigraph.QueryTriples``.

    >>> import pyoxigraph as ox
    >>> server = ox.Store()
    >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
    >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
    >>> triples = remote.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=["urn:example:g"])
    >>> len(triples)
    1
    """

    def __init__(self, triples: list[ox.Triple]) -> None:
        self._triples = triples

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def serialize(self, output: Any = None, format: ox.RdfFormat | None = None) -> bytes | None:
        """Write the triples like ``QueryTriples.serialize`` (bytes when ``output`` is None).

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=["urn:example:g"]).serialize()
        b'<urn:example:a> <urn:example:b> <urn:example:c> .\\n'
        """
        return ox.serialize(self._triples, output, format or ox.RdfFormat.N_TRIPLES)


class RemoteStore:
    """A SPARQL 1.1 server behind the subset of the ``pyoxigraph.Store`` API igkg uses.

    ``location`` is ``sparql+http://host:port/path`` (or ``sparql+https://``, or a plain
    ``http(s)://`` URL). Updates go to the same URL unless ``IGKG_STORE_UPDATE_URL``
    names another (Fuseki ``/ds/update``, GraphDB ``/repositories/<id>/statements``).

    >>> import pyoxigraph as ox
    >>> server = ox.Store()
    >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
    >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
    >>> remote.url, len(server)
    ('http://example.org/sparql', 1)
    """

    def __init__(self, location: str, settings: Settings | None = None, *, transport: httpx.BaseTransport | None = None) -> None:
        settings = settings or Settings.from_env()
        self.url = self.endpoint_url(location)
        self.update_url = settings.store_update_url or self.url
        self.dataset_mode = settings.store_dataset
        self.chunk = max(1, settings.store_chunk)
        self.retries = max(0, settings.store_retries)
        self.backoff = max(0.0, settings.store_backoff)
        timeout = settings.store_timeout
        headers = {"User-Agent": "igkg"}
        auth: httpx.Auth | None = None
        if settings.store_token:
            headers["Authorization"] = f"Bearer {settings.store_token}"
        elif settings.store_user:
            auth = _ChallengeAuth(settings.store_user, settings.store_password)
        self._client = httpx.Client(
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            transport=transport,
        )
        self.server = ""
        """The ``Server`` header of the last response (``Virtuoso/07.20 ...``), for quirks."""

    @staticmethod
    def endpoint_url(location: str) -> str:
        """The HTTP(S) URL of a ``sparql+http(s)://`` store location.

        >>> RemoteStore.endpoint_url("sparql+https://example.org/sparql")
        'https://example.org/sparql'
        >>> RemoteStore.endpoint_url("./igkg-data")
        Traceback (most recent call last):
        ...
        kg.core.errors.ConfigError: not a SPARQL endpoint location: './igkg-data' (use sparql+http://host:port/sparql)
        """
        for scheme in ("sparql+http://", "sparql+https://"):
            if location.startswith(scheme):
                return location[len("sparql+") :]
        if location.startswith(("http://", "https://")):
            return location
        raise ConfigError(f"not a SPARQL endpoint location: {location!r} (use sparql+http://host:port/sparql)")

    # ------------------------------------------------------------------ HTTP
    def close(self) -> None:
        """Close the HTTP connections.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.close()
        """
        self._client.close()

    def _post(self, url: str, data: Mapping[str, Any], accept: str | None, *, what: str) -> httpx.Response:
        """POST a form with bounded retries and back-off on transient failures."""
        headers = {"Accept": accept} if accept else {}
        for attempt in itertools.count():
            try:
                response = self._client.post(url, data=dict(data), headers=headers)
            except httpx.TimeoutException as exc:
                raise QueryTimeout(f"{what} at {url} timed out ({exc}); raise IGKG_STORE_TIMEOUT") from None
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise StoreError(
                        f"cannot reach the SPARQL server at {url} after {attempt + 1} attempts: {exc}"
                    ) from None
                self._wait(attempt, f"{type(exc).__name__}: {exc}")
                continue
            self.server = response.headers.get("server", self.server)
            if response.status_code in _TRANSIENT and attempt < self.retries:
                self._wait(attempt, f"HTTP {response.status_code}", response.headers.get("retry-after"))
                continue
            if response.status_code >= 400:
                self._raise(response, url, what)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, attempt: int, reason: str, retry_after: str | None = None) -> None:
        delay = min(self.backoff * (2**attempt), 30.0)
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 60.0)
        logger.warning("SPARQL server: %s; retrying in %.1f s (attempt %d of %d)", reason, delay, attempt + 2, self.retries + 1)
        time.sleep(delay)

    @staticmethod
    def _raise(response: httpx.Response, url: str, what: str) -> None:
        body = response.text.strip()
        if len(body) > 800:
            body = body[:800] + " ..."
        status = response.status_code
        if status == 400:
            raise QuerySyntaxError(f"the SPARQL server rejected the {what}: {body}")
        if status in (401, 403):
            raise StoreError(
                f"the SPARQL server at {url} refused the {what} (HTTP {status}); set IGKG_STORE_USER and "
                "IGKG_STORE_PASSWORD (or IGKG_STORE_TOKEN) to an account allowed to do it"
            )
        raise StoreError(f"the SPARQL server at {url} failed the {what} (HTTP {status}): {body}")

    # ------------------------------------------------------------------ queries
    def query(
        self,
        query: str,
        *,
        prefixes: Mapping[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: Any = None,
        named_graphs: Any = None,
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | RemoteTriples:
        """Run a query on the server; same arguments and result types as ``pyoxigraph.Store.query``.

        The text is checked locally first (a ``SyntaxError`` names the position), so a
        typo never reaches the server.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> bool(remote.query("ASK { GRAPH ?g { ?s ?p ?o } }", named_graphs=["urn:example:g"]))
        True
        >>> remote.query("SELECT WHERE")
        Traceback (most recent call last):
        ...
        SyntaxError: ...
        """
        text = with_prefixes(query, prefixes)
        if base_iri:
            text = f"BASE <{base_iri}>\n{text}"
        form = _query_form(text)
        data: dict[str, Any] = {"query": self._dialect(text)}
        data.update(self._dataset(text, use_default_graph_as_union, default_graph, named_graphs))
        if form == "graph":
            response = self._post(self.url, data, _NT, what="query")
            return RemoteTriples(list(_triples(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))))
        response = self._post(self.url, data, _XML, what="query")
        try:
            return ox.parse_query_results(response.content, ox.QueryResultsFormat.XML)
        except SyntaxError as exc:
            raise StoreError(f"the SPARQL server at {self.url} sent results that do not parse: {exc}") from None

    def _dataset(self, text: str, union: bool, default_graph: Any, named_graphs: Any) -> dict[str, list[str]]:
        """The ``default-graph-uri``/``named-graph-uri`` parameters of one request."""
        params: dict[str, list[str]] = {}
        explicit = default_graph is not None or named_graphs is not None
        if _FROM.search(strip_strings(text)):
            if explicit:
                raise QuerySyntaxError("the query names its own dataset (FROM); do not also pass graphs")
            return params
        if not explicit and self.dataset_mode == "server":
            return params
        if named_graphs is not None:
            named = [_iri(g) for g in _as_list(named_graphs)]
        else:
            # The catalogued graphs, the catalog, and any graph the text names itself
            # (``GRAPH <iri>``: a load in progress counting its own triples, a drop).
            named = self.catalogued() + [CATALOG_GRAPH]
            named += [g for g in _GRAPH_IRI.findall(text) if g not in named]
        if default_graph is not None:
            default = [_iri(g) for g in _as_list(default_graph) if not isinstance(g, ox.DefaultGraph)]
        else:
            # The catalog is a named graph of the dataset, never part of its default graph.
            default = [g for g in named if g != CATALOG_GRAPH] if union else []
        if default:
            params["default-graph-uri"] = default
        params["named-graph-uri"] = named
        return params

    def catalogued(self) -> list[str]:
        """The graphs the igkg catalog lists (the dataset of every query in ``catalog`` mode).

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.catalogued()   # urn:example:g was not loaded by igkg
        []
        """
        rows = self.query(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g a <{IGKG.SourceGraph}> }} }}",
            named_graphs=[CATALOG_GRAPH],
        )
        assert isinstance(rows, ox.QuerySolutions)
        return [row["g"].value for row in rows if isinstance(row["g"], ox.NamedNode)]

    def _dialect(self, text: str) -> str:
        """Rewrite what a known server cannot read (Virtuoso 7: a trailing VALUES clause)."""
        if self.server.startswith("Virtuoso") or not self.server:
            return inline_trailing_values(text)
        return text

    # ------------------------------------------------------------------ updates
    def update(self, update: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None) -> None:
        """Run SPARQL 1.1 Update on the server (checked locally for syntax first).

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.update("CLEAR ALL")
        >>> len(server)
        0
        """
        text = with_prefixes(update, prefixes)
        if base_iri:
            text = f"BASE <{base_iri}>\n{text}"
        ox.Store().update(text)  # syntax check on a scratch store; raises SyntaxError
        self._update(text)

    def _update(self, text: str) -> None:
        self._post(self.update_url, {"update": text}, None, what="update")

    def bulk_load(
        self,
        input: Any = None,
        format: ox.RdfFormat | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        base_iri: str | None = None,
        to_graph: ox.NamedNode | None = None,
    ) -> None:
        """Parse an RDF file locally and ``INSERT DATA`` it into ``to_graph`` in bounded chunks.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.bulk_load(b'<urn:example:x> <urn:example:y> "1" .', ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:example:h"))
        >>> len(server)
        2
        """
        if to_graph is None or not isinstance(to_graph, ox.NamedNode):
            raise StoreError("a remote load needs a named target graph")
        if path is not None:
            with open(path, "rb") as handle:
                self._insert(_triples(ox.parse(handle, format, base_iri=base_iri)), to_graph.value)
        else:
            self._insert(_triples(ox.parse(input, format, base_iri=base_iri)), to_graph.value)

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        """Insert quads (named graphs only) in bounded chunks, one graph at a time.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> q = ox.Quad(ox.NamedNode("urn:example:x"), ox.NamedNode("urn:example:y"), ox.Literal("z"), ox.NamedNode("urn:example:h"))
        >>> remote.bulk_extend([q])
        >>> len(server)
        2
        """
        for graph, group in itertools.groupby(quads, key=lambda q: q.graph_name):
            if not isinstance(graph, ox.NamedNode):
                raise StoreError("a remote load writes named graphs only")
            self._insert((ox.Triple(q.subject, q.predicate, q.object) for q in group), graph.value)

    def _insert(self, triples: Iterable[ox.Triple], graph: str) -> None:
        chunks = iter_chunks(triples, self.chunk)
        first = next(chunks, None)
        if first is None:
            return
        second = next(chunks, None)
        skolem = second is not None  # blank nodes cannot span requests
        salt = hashlib.sha256(graph.encode()).hexdigest()[:16]
        sent = 0
        for chunk in itertools.chain([first], [second] if second else [], chunks):
            if skolem:
                chunk = [_skolemise(t, salt) for t in chunk]
            body = ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
            if not skolem and any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in chunk):
                self._update(f"INSERT {{ GRAPH <{graph}> {{\n{body}}} }} WHERE {{}}")
            else:
                self._update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}")
            sent += len(chunk)
        logger.info("sent %d triples to %s", sent, graph)

    # ------------------------------------------------------------------ graphs
    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """Every named graph on the server (not only igkg's).

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> [graph.value for graph in remote.named_graphs()]
        ['urn:example:g']
        """
        response = self._post(self.url, {"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"}, _XML, what="query")
        for row in ox.parse_query_results(response.content, ox.QueryResultsFormat.XML):
            if isinstance(row["g"], ox.NamedNode):
                yield row["g"]

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        """Whether the server holds any triple in ``graph``.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.contains_named_graph(ox.NamedNode("urn:example:g")), remote.contains_named_graph(ox.NamedNode("urn:example:none"))
        (True, False)
        """
        result = self.query("ASK { GRAPH ?g { ?s ?p ?o } }", named_graphs=[graph])
        return bool(result)

    def remove_graph(self, graph: ox.NamedNode) -> None:
        """Drop one named graph.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.remove_graph(ox.NamedNode("urn:example:g"))
        >>> len(server)
        0
        """
        self._update(f"DROP SILENT GRAPH <{_iri(graph)}>")

    def flush(self) -> None:
        """Nothing to flush: every request is committed by the server.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.flush()
        """

    def dump(
        self,
        output: Any = None,
        format: ox.RdfFormat | None = None,
        *,
        from_graph: ox.NamedNode | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> bytes | None:
        """Write one graph, or every catalogued graph plus the catalog, like ``Store.dump``.

        >>> import pyoxigraph as ox
        >>> server = ox.Store()
        >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(server))
        >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> remote.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode("urn:example:g"))
        b'<urn:example:a> <urn:example:b> <urn:example:c> .\\n'
        """
        fmt = format or ox.RdfFormat.N_QUADS
        graphs = [_iri(from_graph)] if from_graph is not None else self.catalogued() + [CATALOG_GRAPH]
        if fmt.supports_datasets:
            items: Iterable[Any] = (
                ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for g in graphs for t in self._graph_triples(g)
            )
        else:
            items = (t for g in graphs for t in self._graph_triples(g))
        return ox.serialize(items, output, fmt, prefixes=dict(prefixes) if prefixes else None)

    def _graph_triples(self, graph: str) -> list[ox.Triple]:
        """All triples of one graph; refuses a result the server truncated."""
        expected = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[graph])
        assert isinstance(expected, ox.QuerySolutions)
        count = int(next(iter(expected))["n"].value)
        triples = self.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[graph])
        assert isinstance(triples, RemoteTriples)
        if len(triples) < count:
            raise StoreError(
                f"the SPARQL server returned {len(triples)} of the {count} triples of {graph}: it truncates "
                "results (Virtuoso: raise ResultSetMaxRows in the [SPARQL] section of virtuoso.ini)"
            )
        return list(triples)


class RemoteKnowledgeGraph(KnowledgeGraph):
    """The igkg knowledge graph on a remote SPARQL 1.1 server; the API of ``KnowledgeGraph``.

    ``location`` is ``sparql+http://host:port/sparql`` (or ``sparql+https://``). Graphs
    left by an interrupted load are not removed on open (another client may be loading);
    they are invisible to queries and ``recover()`` removes them.

    >>> kg = RemoteKnowledgeGraph("sparql+http://example.org/sparql", transport=sparql_protocol_transport())
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "facts.nt"
    >>> _ = path.write_text('<urn:example:a> <urn:example:b> "1" .\\n')
    >>> report = kg.load(path)      # parsed here, sent as INSERT DATA, then the catalog switch
    >>> kg.query('ASK { <urn:example:a> <urn:example:b> "1" }')
    True
    """

    def __init__(self, location: str, *, read_only: bool = False, transport: httpx.BaseTransport | None = None) -> None:
        """Connect to the server at ``location``; ``transport`` replaces the network (see ``RemoteStore``)."""
        super().__init__(location, read_only=read_only, backend=RemoteStore(str(location), transport=transport))

    @property
    def store(self) -> RemoteStore:  # type: ignore[override]
        """The ``RemoteStore`` (the pyoxigraph ``Store`` methods igkg uses, over HTTP).

        >>> kg = RemoteKnowledgeGraph("sparql+http://example.org/sparql", transport=sparql_protocol_transport())
        >>> type(kg.store).__name__
        'RemoteStore'
        """
        return super().store  # type: ignore[return-value]

    @property
    def dataset(self) -> Dataset:
        """Not offered remotely: use ``query``/``sparql`` (rdflib's SPARQLStore can wrap the URL).

        >>> kg = RemoteKnowledgeGraph("sparql+http://example.org/sparql", transport=sparql_protocol_transport())
        >>> kg.dataset
        Traceback (most recent call last):
        ...
        kg.core.errors.StoreError: the rdflib Dataset view exists only on the embedded store; use query() or sparql()
        """
        raise StoreError("the rdflib Dataset view exists only on the embedded store; use query() or sparql()")

    def sparql(self, sparql: str, bindings: Mapping[str, Any] | None = None) -> Result:
        """Run SPARQL and return an rdflib ``Result`` (bindings by a VALUES clause).

        >>> kg = RemoteKnowledgeGraph("sparql+http://example.org/sparql", transport=sparql_protocol_transport())
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "facts.nt"
        >>> _ = path.write_text('<urn:example:a> <urn:example:b> "1" .\\n')
        >>> report = kg.load(path)      # parsed here, sent as INSERT DATA, then the catalog switch
        >>> [str(row.o) for row in kg.sparql("SELECT ?o WHERE { ?s ?p ?o }")]
        ['1']
        """
        result = self.raw_query(sparql, bindings)
        if isinstance(result, RemoteTriples):
            wrapped = Result("CONSTRUCT")
            wrapped.graph = triples_to_graph(result)
            return wrapped
        data = result.serialize(format=ox.QueryResultsFormat.XML)
        return Result.parse(io.BytesIO(data), format="xml")


def sparql_protocol_transport(store: ox.Store | None = None) -> httpx.MockTransport:
    """An in-process SPARQL 1.1 Protocol server over a pyoxigraph store, as an httpx transport.

    ``RemoteStore(url, transport=...)`` then talks to ``store`` instead of the network: for
    examples and tests of the remote backend without a server. Queries (form ``query`` with
    ``default-graph-uri`` / ``named-graph-uri``) answer SPARQL XML results or N-Triples;
    updates (form ``update``) answer 204; a syntax error answers 400.

    >>> import pyoxigraph as ox
    >>> store = ox.Store()
    >>> remote = RemoteStore("sparql+http://example.org/sparql", transport=sparql_protocol_transport(store))
    >>> remote.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> 1 } }")
    >>> len(store)
    1
    """
    store = store if store is not None else ox.Store()

    def handle(request: httpx.Request) -> httpx.Response:
        form = urllib.parse.parse_qs(request.content.decode("utf-8"))
        try:
            if "update" in form:
                store.update(form["update"][0])
                return httpx.Response(204)
            default = [ox.NamedNode(g) for g in form.get("default-graph-uri", [])]
            named = [ox.NamedNode(g) for g in form.get("named-graph-uri", [])]
            dataset: dict[str, Any] = {}
            if default or named:
                dataset = {"default_graph": default or [], "named_graphs": named or None}
            result = store.query(form["query"][0], **dataset)
        except SyntaxError as exc:
            return httpx.Response(400, text=str(exc))
        if isinstance(result, ox.QueryTriples):
            body = result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
            return httpx.Response(200, content=body, headers={"Content-Type": "application/n-triples"})
        body = result.serialize(format=ox.QueryResultsFormat.XML) or b""
        return httpx.Response(200, content=body, headers={"Content-Type": "application/sparql-results+xml"})

    return httpx.MockTransport(handle)


# ---------------------------------------------------------------------- helpers
def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _iri(graph: Any) -> str:
    if isinstance(graph, ox.NamedNode):
        return graph.value
    if isinstance(graph, str):
        return graph
    raise StoreError(f"a remote dataset names graphs by IRI, not {graph!r}")


def _triples(quads: Iterable[Any]) -> Iterator[ox.Triple]:
    for quad in quads:
        yield quad.triple if isinstance(quad, ox.Quad) else quad


def _skolemise(triple: ox.Triple, salt: str) -> ox.Triple:
    subject, obj = triple.subject, triple.object
    if isinstance(subject, ox.BlankNode):
        subject = ox.NamedNode(f"{SKOLEM_BASE}{salt}/{subject.value}")
    if isinstance(obj, ox.BlankNode):
        obj = ox.NamedNode(f"{SKOLEM_BASE}{salt}/{obj.value}")
    if subject is triple.subject and obj is triple.object:
        return triple
    return ox.Triple(subject, triple.predicate, obj)


_SCRATCH: ox.Store | None = None


def _query_form(text: str) -> str:
    """``'solutions'``, ``'boolean'`` or ``'graph'``, by parsing the query locally (raises ``SyntaxError``)."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = ox.Store()
    code = strip_strings(text)
    if re.search(r"\bSERVICE\b", code, re.IGNORECASE):
        # Not evaluated locally (that would call the service); the server checks the syntax.
        m = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", code, re.IGNORECASE)
        form = m.group(1).upper() if m else "SELECT"
        return {"ASK": "boolean", "SELECT": "solutions"}.get(form, "graph")
    result = _SCRATCH.query(text)
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QuerySolutions):
        return "solutions"
    return "graph"


def inline_trailing_values(text: str) -> str:
    """Move a trailing ``VALUES`` block into the query's WHERE group (Virtuoso 7 ignores it).

    Joining the bindings at the start of the WHERE group gives the same answers as the
    trailing clause for queries whose bound variables are not aggregates.

    >>> inline_trailing_values('SELECT ?s WHERE { ?s ?p ?o }\\nVALUES (?o) { ("}") }')
    'SELECT ?s WHERE { VALUES (?o) { ("}") }\\n ?s ?p ?o }'
    """
    code = strip_strings(text)
    groups = _top_level_groups(code)
    if len(groups) < 2:
        return text
    where, data = groups[-2], groups[-1]
    between = code[where[1] : data[0]]
    m = re.search(r"\bVALUES\s*(\([^()]*\)|\?\w+)\s*$", between, re.IGNORECASE)
    if not m or code[data[1] :].strip():
        return text
    values_start = where[1] + m.start()
    values = text[values_start : data[1]]
    return text[: where[0] + 1] + " " + values + "\n" + text[where[0] + 1 : values_start].rstrip() + text[data[1] :]


def _top_level_groups(code: str) -> list[tuple[int, int]]:
    """(start, end) of each depth-0 ``{ ... }`` group; ``end`` is past the closing brace."""
    groups: list[tuple[int, int]] = []
    depth, start = 0, 0
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                groups.append((start, i + 1))
    return groups
