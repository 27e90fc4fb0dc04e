"""The dataset of every query: the union of the data graphs, never igkg's catalog nor an uncommitted graph.

Real files (``../shared/data/mesh``) loaded with ``KnowledgeGraph.load``; every expected
number is what Oxigraph itself answers on the same file loaded into a plain store's
default graph. Served cases run the real server on 127.0.0.1 with no dataset parameters,
as every SPARQL client sends queries.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from live_server import running_server

from kg import KnowledgeGraph
from kg.core.files import utc_now
from kg.core.namespaces import CATALOG_GRAPH, GRAPH_BASE
from kg.endpoint import EndpointConfig, create_app
from kg.store.catalog import mark_pending

pytestmark = pytest.mark.slow

MESH_FILE = "mesh/samples.nt"
VOCABULARY_FILE = "mesh/vocabulary.ttl"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
QUERIES = [
    COUNT,
    # a zero-length path matches every term of the default graph: catalog terms would count
    "SELECT (COUNT(*) AS ?n) WHERE { ?x <http://id.nlm.nih.gov/mesh/vocab#broaderDescriptor>* ?y }",
    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
]
ORPHAN = GRAPH_BASE + "rdf/interrupted.nt/00000000deadbeef"


def _reference(*files: Path, query: str = COUNT) -> int:
    """Oxigraph's own answer with the files in a plain store's default graph."""
    store = ox.Store()
    for file in files:
        store.load(path=str(file), format=ox.RdfFormat.N_TRIPLES if file.suffix == ".nt" else ox.RdfFormat.TURTLE)
    return int(next(iter(store.query(query)))["n"].value)  # type: ignore[index]


def _count(base: str, query: str = COUNT, **params: str | list[str]) -> int:
    response = httpx.post(base + "/sparql", data={"query": query, **params}, timeout=60,
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _add_orphan(folder: Path, triples: int) -> None:
    """What an interrupted load leaves: its graph, marked pending in the catalog, not catalogued."""
    store = ox.Store(str(folder))
    store.update(mark_pending(ORPHAN, utc_now()))
    graph = ox.NamedNode(ORPHAN)
    store.bulk_extend(
        ox.Quad(ox.NamedNode(f"http://example.org/orphan/{i}"), ox.NamedNode("http://example.org/p"), ox.Literal(str(i)), graph)
        for i in range(triples)
    )
    store.flush()
    del store


@pytest.fixture(scope="module")
def mesh(shared_data: Path) -> Path:
    return shared_data / MESH_FILE


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, mesh: Path) -> Path:
    folder = tmp_path_factory.mktemp("dataset") / "store"
    with KnowledgeGraph(folder) as kg:
        kg.load(mesh, kind="rdf")
    return folder


def test_python_queries_do_not_see_the_catalog(store: Path, mesh: Path) -> None:
    with KnowledgeGraph(store, read_only=True) as kg:
        for query in QUERIES:
            assert int(kg.query(query)["n"].iloc[0]) == _reference(mesh, query=query), query
        in_catalog = kg.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?s ?p ?o }} }}")
        assert int(in_catalog["n"].iloc[0]) > 10
        from_catalog = kg.query(f"SELECT (COUNT(*) AS ?n) FROM <{CATALOG_GRAPH}> WHERE {{ ?s ?p ?o }}")
        assert from_catalog["n"].iloc[0] == in_catalog["n"].iloc[0]  # a query's own FROM is its dataset
        assert kg.graphs()["source"].tolist() == ["rdf/samples.nt"]
        assert CATALOG_GRAPH not in kg.data_graphs()


def test_http_queries_without_dataset_parameters_answer_as_oxigraph(store: Path, mesh: Path) -> None:
    with running_server(create_app(store, EndpointConfig(workers=1, page_workers=0, timeout=60))) as base:
        for query in QUERIES:
            assert _count(base, query) == _reference(mesh, query=query), query
        graphs = httpx.post(base + "/sparql", data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=60).json()
        names = {b["g"]["value"] for b in graphs["results"]["bindings"]}
        assert CATALOG_GRAPH in names and len(names) == 2
        description = httpx.get(base + "/sparql", headers={"Accept": "application/n-triples"}, timeout=60).text
        assert f"<{CATALOG_GRAPH}>" in description


def test_server_never_serves_the_remains_of_an_interrupted_load(tmp_path: Path, mesh: Path) -> None:
    folder = tmp_path / "store"
    with KnowledgeGraph(folder) as kg:
        kg.load(mesh, kind="rdf")
    _add_orphan(folder, 5000)
    expected = _reference(mesh)
    with running_server(create_app(folder, EndpointConfig(workers=2, page_workers=0, timeout=60))) as base:
        assert [_count(base) for _ in range(4)] == [expected] * 4
        assert _count(base, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ORPHAN}> {{ ?s ?p ?o }} }}") == 0
        assert _count(base, COUNT, **{"default-graph-uri": ORPHAN}) == 0
        refused = httpx.post(base + "/sparql", data={"query": f"SELECT * FROM <{ORPHAN}> WHERE {{ ?s ?p ?o }}"}, timeout=60)
        assert refused.status_code == 403 and "no committed graph" in refused.text
        void = httpx.get(base + "/.well-known/void", headers={"Accept": "application/n-triples"}, timeout=60).text
        assert ORPHAN not in void


def test_a_load_beside_the_server_is_seen_once_committed_by_every_worker(tmp_path: Path, shared_data: Path, mesh: Path) -> None:
    folder = tmp_path / "store"
    vocabulary = shared_data / VOCABULARY_FILE
    with KnowledgeGraph(folder) as kg:
        kg.load(mesh, kind="rdf")
    before, after = _reference(mesh), _reference(mesh, vocabulary)
    with running_server(create_app(folder, EndpointConfig(workers=2, page_workers=0, timeout=60))) as base:
        assert _count(base) == before
        done = threading.Event()
        errors: list[BaseException] = []

        def load() -> None:
            try:
                with KnowledgeGraph(folder) as writer:
                    writer.load(vocabulary, kind="rdf")
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=load)
        thread.start()
        seen = []
        busy = 0
        while not done.is_set():
            response = httpx.post(base + "/sparql", data={"query": COUNT}, timeout=60,
                                  headers={"Accept": "application/sparql-results+json"})
            if response.status_code == 503 and "EndpointBusy" in response.text:
                busy += 1  # a worker could not reopen the store at that instant: retry, as Retry-After says
                continue
            assert response.status_code == 200, response.text
            seen.append(int(response.json()["results"]["bindings"][0]["n"]["value"]))
        thread.join()
        assert not errors, errors
        assert busy <= len(seen), f"{busy} busy answers, {len(seen)} answers"
        seen += [_count(base) for _ in range(10)]
        # Only committed versions, and never back to the old one once the new one was answered.
        assert set(seen) <= {before, after}
        assert seen[-10:] == [after] * 10
        first_new = seen.index(after)
        assert seen[first_new:] == [after] * (len(seen) - first_new)
        with KnowledgeGraph(folder) as writer:
            writer.drop(VOCABULARY_FILE.rsplit("/", 1)[-1])
        assert [_count(base) for _ in range(6)] == [before] * 6
