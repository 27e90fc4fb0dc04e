"""Resource limits of the served endpoint, against the real server on 127.0.0.1.

Result bytes are capped (``max_bytes``) as well as rows, a worker's heap is bounded, deep
but valid queries pass the guard, and clients looping expensive queries do not starve
ordinary requests (fair worker queue, page lane). The store holds the MeSH RDF sample
(``../shared/data/mesh/samples.nt``); sizes are measured on what the server sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from live_server import running_server

from kg import KnowledgeGraph
from kg.endpoint import EndpointConfig, create_app

pytestmark = pytest.mark.slow

MESH_FILE = "mesh/samples.nt"
NEOPLASMS = "http://id.nlm.nih.gov/mesh/D009369"
JSON = {"Accept": "application/sparql-results+json"}
# ~330 bytes of query, 10^8 characters of answer: each BIND repeats the previous string ten times.
CONCAT_100MB = "SELECT ?h WHERE { BIND(\"0123456789\" AS ?a)" + "".join(
    f" BIND(CONCAT({','.join([f'?{p}'] * 10)}) AS ?{n})" for p, n in zip("abcdefg", "bcdefgh")
) + " }"
# the same, one level more: 10^9 characters, which the engine builds before anything is written
CONCAT_1GB = CONCAT_100MB.replace("SELECT ?h", "SELECT ?i").removesuffix(" }") + f" BIND(CONCAT({','.join(['?h'] * 10)}) AS ?i) }}"
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("limits") / "store"
    with KnowledgeGraph(folder) as kg:
        kg.load(shared_data / MESH_FILE, kind="rdf")
    return folder


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with running_server(create_app(store, EndpointConfig(workers=1, page_workers=0, timeout=60))) as base:
        yield base


def _post(url: str, query: str, **kwargs: object) -> httpx.Response:
    return httpx.post(url + "/sparql", data={"query": query}, headers=JSON, timeout=120, **kwargs)  # type: ignore[arg-type]


def test_a_300_byte_query_cannot_make_the_server_send_100_mb(url: str) -> None:
    assert len(CONCAT_100MB) < 400
    length = CONCAT_100MB.replace("SELECT ?h", "SELECT (STRLEN(?h) AS ?n)")
    assert int(next(iter(ox.Store().query(length)))["n"].value) == 10**8  # type: ignore[index]
    response = _post(url, CONCAT_100MB)
    assert response.status_code == 413, response.status_code
    assert len(response.content) < 1000
    assert "67108864 bytes" in response.text and "--max-bytes" in response.text
    assert _post(url, f"ASK {{ <{NEOPLASMS}> ?p ?o }}").json()["boolean"] is True


def test_the_byte_cap_is_configurable_and_exact(store: Path) -> None:
    labels = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s LIMIT %d"
    with running_server(create_app(store, EndpointConfig(workers=1, page_workers=0, max_bytes=64 * 1024))) as base:
        small = _post(base, labels % 100)
        assert small.status_code == 200 and len(small.json()["results"]["bindings"]) == 100
        assert len(small.content) <= 64 * 1024
        big = _post(base, labels % 2000)
        assert big.status_code == 413 and "65536 bytes" in big.text
        construct = httpx.post(base + "/sparql", data={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, timeout=60,
                               headers={"Accept": "application/n-triples"})
        assert construct.status_code == 413
        one_line = httpx.post(base + "/sparql", data={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 10"}, timeout=60,
                              headers={"Accept": "application/n-triples"})
        assert one_line.status_code == 200 and len(one_line.text.splitlines()) == 10


def test_a_query_past_the_worker_memory_bound_stops_only_its_worker(store: Path) -> None:
    config = EndpointConfig(workers=1, page_workers=0, timeout=60, worker_memory=768 * 1024 * 1024)
    with running_server(create_app(store, config)) as base:
        started = time.monotonic()
        response = _post(base, CONCAT_1GB)
        assert response.status_code == 500 and "memory" in response.text, response.text
        assert time.monotonic() - started < 60
        assert _post(base, f"ASK {{ <{NEOPLASMS}> ?p ?o }}").json()["boolean"] is True
        assert httpx.get(base + "/health", timeout=30).json()["workers"] == 1


@pytest.mark.parametrize("depth", [40, 100])
def test_deeply_nested_groups_and_parentheses_are_answered(url: str, depth: int) -> None:
    groups = "SELECT (COUNT(*) AS ?n) WHERE " + "{ " * depth + f"<{NEOPLASMS}> rdfs:label ?l " + "} " * depth
    response = _post(url, groups)
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "1"
    parentheses = (f"SELECT ?l WHERE {{ <{NEOPLASMS}> rdfs:label ?l FILTER(" + "(" * (depth // 2 + 5)
                   + "STRLEN(?l) > 3" + ")" * (depth // 2 + 5) + ") }")
    response = _post(url, parentheses)
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["l"]["value"] == "Neoplasms"
    too_deep = "SELECT * WHERE " + "{ " * 5000 + "?s ?p ?o " + "} " * 5000
    refused = _post(url, too_deep)
    assert refused.status_code == 400 and "too deeply" in refused.text


def test_clients_looping_expensive_queries_do_not_starve_ordinary_requests(store: Path) -> None:
    """Two clients (127.0.0.2, 127.0.0.3) each loop two expensive queries at once; a third
    (127.0.0.4) keeps asking cheap SPARQL, entity pages and named queries: all answered."""
    config = EndpointConfig(workers=2, page_workers=1, timeout=3)
    stop = threading.Event()
    heavy: list[int] = []

    def abuse(base: str, address: str) -> None:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60) as client:
            while not stop.is_set():
                status = client.post(base + "/sparql", data={"query": CROSS_PRODUCT}, headers=JSON).status_code
                if not stop.is_set():  # answers after the test ended may meet the server shutting down
                    heavy.append(status)

    with running_server(create_app(store, config)) as base:
        threads = [threading.Thread(target=abuse, args=(base, address), daemon=True)
                   for address in ("127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3")]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every query worker is busy now
        statuses: dict[str, list[int]] = {"sparql": [], "entity": [], "named": []}
        slowest = 0.0
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.4"), timeout=60) as client:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                for kind, send in (
                    ("sparql", lambda: client.post(base + "/sparql", data={"query": f"ASK {{ <{NEOPLASMS}> ?p ?o }}"}, headers=JSON)),
                    ("entity", lambda: client.get(base + "/entity", params={"iri": NEOPLASMS}, headers={"Accept": "text/html"})),
                    ("named", lambda: client.get(base + "/api/queries/terms_under_mesh_tree", params={"tree": "C04"})),
                ):
                    began = time.monotonic()
                    statuses[kind].append(send().status_code)
                    slowest = max(slowest, time.monotonic() - began) if kind != "sparql" else slowest
        stop.set()
        for thread in threads:
            thread.join(30)
    assert heavy and all(code == 503 for code in heavy)  # the expensive queries ran until stopped
    assert all(code == 200 for codes in statuses.values() for code in codes), statuses
    assert len(statuses["sparql"]) >= 2 and len(statuses["entity"]) >= 2
    assert slowest < 3  # the page lane answers without waiting for a query worker
