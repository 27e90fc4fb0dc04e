"""Each protection of the endpoint, attacked over HTTP on the real server.

SERVICE to a non-allow-listed endpoint (with a local listener proving no connection is
opened, and a positive control proving the listener would see one), file: IRIs, a
cross product and a backtracking-prone regex that must time out (with the server still
answering right after), a 200 MB body, UPDATE without / with a wrong / with the right
token, CORS, and the config object.
"""

from __future__ import annotations

import select
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from live_server import running_server

from kg import KnowledgeGraph
from kg.core.errors import ConfigError
from kg.endpoint import EndpointConfig, create_app

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token-for-tests-0123456789"
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
REDOS = (
    'SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f '
    'FILTER(REGEX(CONCAT(STR(?c), STR(?f), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "^(a+)+$")) }'
)


class Listener:
    """A loopback HTTP listener that records connections and answers SPARQL JSON."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _run(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.sock], [], [], 0.1)
            if not ready:
                continue
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(5)
                try:
                    self.requests.append(conn.recv(65536))
                except OSError:
                    self.requests.append(b"")
                body = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"remote"}}]}}'
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
                )

    def close(self) -> None:
        self._stop = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def _build_store(kg: KnowledgeGraph, shared: Path) -> None:
    kg.load(shared / "mesh" / "samples.nt", kind="rdf")


@pytest.fixture(scope="module")
def template(shared_data: Path, store_template: Callable[..., Path]) -> Path:
    """The MeSH samples store, built once per session; never served or written itself."""
    return store_template("endpoint-safety", lambda kg: _build_store(kg, shared_data))


@pytest.fixture
def store(template: Path, fresh_store: Callable[[Path], Path]) -> Path:
    """A fresh copy of the store for a test that starts its own server."""
    return fresh_store(template)


@pytest.fixture(scope="module")
def url(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Default limits except a short timeout, two workers.

    Started once for the module (a start spawns the query workers: seconds): the endpoint
    opens its own copy of the store read-only and takes no updates, so no test can change
    what the next one sees.
    """
    folder = tmp_path_factory.mktemp("safety") / "store"
    shutil.copytree(template, folder, ignore=shutil.ignore_patterns("LOCK"))
    with running_server(create_app(folder, EndpointConfig(timeout=3, workers=2))) as base:
        yield base


def _query(url: str, query: str, **params: str) -> httpx.Response:
    return httpx.post(url + "/sparql", data={"query": query, **params}, timeout=60,
                      headers={"Accept": "application/sparql-results+json"})


# ------------------------------------------------------------------ SERVICE and file:
def test_service_is_refused_and_no_socket_is_opened(url: str, listener: Listener) -> None:
    attacks = [
        "SELECT * WHERE { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }",
        f"SELECT * WHERE {{ SERVICE <{listener.base}sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{listener.base}> {{ ?s ?p ?o }} }}",
        f"PREFIX ex: <{listener.base}> SELECT * WHERE {{ SERVICE ex:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SELECT * WHERE {{ SERVICE <{listener.base}> {{ ?s ?p ?o }} }} }} }}",
        # SPARQL expands \\u escapes before parsing: this is SERVICE too
        f"SELECT * WHERE {{ \\u0053ERVICE <{listener.base}> {{ ?s ?p ?o }} }}",
        f"BASE <{listener.base}> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE { BIND(<http://169.254.169.254/> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{listener.base}> {{ ?s ?p ?o }} }} }}",
    ]
    for attack in attacks:
        response = _query(url, attack)
        assert response.status_code == 403, (attack, response.status_code, response.text)
        assert "SERVICE" in response.text
    assert listener.requests == []
    assert httpx.get(url + "/health", timeout=10).status_code == 200


def test_allow_listed_service_is_reached(store: Path, listener: Listener) -> None:
    """The positive control: with the prefix allowed, Oxigraph does connect (so the guard is what stops it)."""
    before = len(listener.requests)
    config = EndpointConfig(workers=1, timeout=20, allowed_service_prefixes=(listener.base,))
    with running_server(create_app(store, config)) as base:
        response = _query(base, f"SELECT ?x WHERE {{ SERVICE <{listener.base}sparql> {{ ?x ?p ?o }} }}")
        assert response.status_code == 200, response.text
        assert [b["x"]["value"] for b in response.json()["results"]["bindings"]] == ["remote"]
        other = _query(base, "SELECT * WHERE { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }")
        assert other.status_code == 403
    assert len(listener.requests) == before + 1
    assert listener.requests[-1].startswith(b"POST /sparql ")


def test_file_iris_are_refused(url: str) -> None:
    assert _query(url, "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }").status_code == 403
    assert _query(url, "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }").status_code == 403
    assert _query(url, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": "file:///etc/passwd"}).status_code == 403
    assert _query(url, "SELECT * WHERE { ?s ?p ?o }", **{"named-graph-uri": "FILE:///etc/passwd"}).status_code == 403


# ------------------------------------------------------------------ timeouts
def test_cross_product_times_out_and_server_answers_right_after(url: str) -> None:
    response = _query(url, CROSS_PRODUCT)
    assert response.status_code == 503
    assert "longer than 3 s" in response.text and "no results were sent" in response.text
    assert httpx.get(url + "/health", timeout=10).json()["status"] == "ok"
    cheap = _query(url, "ASK { <http://id.nlm.nih.gov/mesh/D009369> ?p ?o }")
    assert cheap.status_code == 200 and cheap.json()["boolean"] is True


def test_backtracking_regex_times_out(url: str) -> None:
    response = _query(url, REDOS)
    assert response.status_code == 503, response.text
    assert _query(url, "ASK { ?s ?p ?o }").json()["boolean"] is True


def test_heavy_query_does_not_block_health_or_cheap_queries(url: str) -> None:
    heavy: dict[str, httpx.Response] = {}
    started = threading.Event()

    def run_heavy() -> None:
        started.set()
        heavy["response"] = _query(url, CROSS_PRODUCT)

    thread = threading.Thread(target=run_heavy)
    thread.start()
    started.wait()
    health = [httpx.get(url + "/health", timeout=10) for _ in range(3)]
    cheap = _query(url, "SELECT ?l WHERE { <http://id.nlm.nih.gov/mesh/D009369> rdfs:label ?l }")
    heavy_still_running = thread.is_alive()
    thread.join(60)
    assert all(h.status_code == 200 for h in health)
    assert cheap.status_code == 200 and cheap.json()["results"]["bindings"][0]["l"]["value"] == "Neoplasms"
    assert heavy_still_running  # the cheap answers came while the heavy query was still running
    assert heavy["response"].status_code == 503


# ------------------------------------------------------------------ request body cap
def _raw_request(url: str, head: str, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send a request chunk by chunk until the server answers; returns (response head, bytes sent)."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode())
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.settimeout(30)
        response = sock.recv(4096)
    return response, sent


def test_200_mb_body_is_refused_with_413_before_it_is_read(url: str) -> None:
    size = 200 * 1024 * 1024
    block = b"#" * (1024 * 1024)
    head = (
        "POST /sparql HTTP/1.1\r\nHost: test\r\nContent-Type: application/sparql-query\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    response, sent = _raw_request(url, head, iter([block] * 200))
    assert response.startswith(b"HTTP/1.1 413")
    assert sent < size
    chunked_head = "POST /sparql HTTP/1.1\r\nHost: test\r\nContent-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    response, sent = _raw_request(url, chunked_head, iter([chunk] * 200))
    assert response.startswith(b"HTTP/1.1 413")
    assert sent < size
    assert httpx.get(url + "/health", timeout=10).status_code == 200


def test_body_at_the_limit_is_accepted(store: Path) -> None:
    config = EndpointConfig(workers=1, max_body_bytes=4096)
    query = "ASK { ?s ?p ?o }"
    with running_server(create_app(store, config)) as base:
        padded = query + " " * (4096 - len(query))
        ok = httpx.post(base + "/sparql", content=padded, headers={"Content-Type": "application/sparql-query"}, timeout=30)
        assert ok.status_code == 200 and ok.json()["boolean"] is True
        over = httpx.post(base + "/sparql", content=padded + " ", headers={"Content-Type": "application/sparql-query"}, timeout=30)
        assert over.status_code == 413


# ------------------------------------------------------------------ UPDATE
def test_update_is_refused_on_a_read_only_endpoint(url: str) -> None:
    update = 'INSERT DATA { <http://example.org/a> <http://example.org/b> "c" }'
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        response = httpx.post(url + "/sparql", content=update, timeout=30,
                              headers={"Content-Type": "application/sparql-update", **headers})
        assert response.status_code == 403 and "read-only" in response.text
    form = httpx.post(url + "/sparql", data={"update": update}, timeout=30)
    assert form.status_code == 403
    assert httpx.get(url + "/sparql", params={"update": update}, timeout=30).status_code == 400
    assert _query(url, "ASK { <http://example.org/a> ?p ?o }").json()["boolean"] is False


def test_update_needs_the_right_token(store: Path, listener: Listener) -> None:
    update = 'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> "c" } }'
    ask = "ASK { <http://example.org/a> <http://example.org/b> \"c\" }"
    with running_server(create_app(store, EndpointConfig(workers=1, timeout=20, update_token=TOKEN))) as base:
        def send(headers: dict[str, str], body: str = update) -> httpx.Response:
            return httpx.post(base + "/sparql", content=body, timeout=60,
                              headers={"Content-Type": "application/sparql-update", **headers})

        assert send({}).status_code == 403
        assert send({"Authorization": "Bearer wrong-token-wrong-token-wrong"}).status_code == 403
        assert send({"Authorization": f"Bearer {TOKEN[:-1]}"}).status_code == 403
        assert send({"Authorization": f"Basic {TOKEN}"}).status_code == 403
        assert _query(base, ask).json()["boolean"] is False
        assert send({"Authorization": f"Bearer {TOKEN}"}).status_code == 204
        assert _query(base, ask).json()["boolean"] is True
        # the service description now says updates are supported
        assert "SPARQL11Update" in httpx.get(base + "/sparql", headers={"Accept": "text/turtle"}, timeout=30).text
        # LOAD of a file or of a non-allow-listed IRI stays refused even with the token
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert send(auth, "LOAD <file:///etc/passwd>").status_code == 403
        assert send(auth, f"LOAD <{listener.base}data.ttl>").status_code == 403
        assert send(auth, f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.base}> {{ ?s ?p ?o }} }}").status_code == 403
        form = httpx.post(base + "/sparql", data={"update": "DELETE DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> \"c\" } }"},
                          headers=auth, timeout=60)
        assert form.status_code == 204
        assert _query(base, ask).json()["boolean"] is False
    assert listener.requests == [] or all(b"data.ttl" not in r for r in listener.requests)


# ------------------------------------------------------------------ CORS and config
def test_cors_only_for_configured_origins_and_never_with_credentials(store: Path) -> None:
    config = EndpointConfig(workers=1, cors_origins=("https://app.example",))
    with running_server(create_app(store, config)) as base:
        allowed = httpx.get(base + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://app.example"}, timeout=30)
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-credentials" not in allowed.headers
        other = httpx.get(base + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://evil.example"}, timeout=30)
        assert "access-control-allow-origin" not in other.headers
        preflight = httpx.options(base + "/sparql", timeout=30, headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200
        assert "access-control-allow-credentials" not in preflight.headers


def test_config_from_environment_and_validation() -> None:
    env = {"IGKG_TIMEOUT": "2.5", "IGKG_MAX_ROWS": "7", "IGKG_ALLOW_SERVICE": "https://a.example/sparql, https://b.example/",
           "IGKG_CORS_ORIGINS": "https://x.example", "IGKG_UPDATE_TOKEN": TOKEN}
    config = EndpointConfig.from_env(env, max_rows=9)
    assert config.timeout == 2.5 and config.max_rows == 9 and config.update_token == TOKEN
    assert config.allowed_service_prefixes == ("https://a.example/sparql", "https://b.example/")
    assert TOKEN not in repr(config)
    with pytest.raises(ConfigError, match="at least 16"):
        EndpointConfig(update_token="short")
    with pytest.raises(ConfigError, match="IGKG_MAX_ROWS"):
        EndpointConfig.from_env({"IGKG_MAX_ROWS": "many"})
    with pytest.raises(ConfigError):
        EndpointConfig(allowed_service_prefixes=("file:///",))
    with pytest.raises(ConfigError):
        EndpointConfig(allowed_service_prefixes=("http://",))
