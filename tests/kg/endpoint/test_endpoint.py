"""The SPARQL 1.1 Protocol over the real server on 127.0.0.1, with httpx and real SPARQL clients.

The store holds the MeSH RDF sample (``../shared/data/mesh/samples.nt``) and one
radiogenomic association computed here with scipy on the NSCLC Radiogenomics table.
Expected facts are read off the source files (grep / pandas), not from igkg.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from live_server import running_server
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from scipy import stats

from kg import KnowledgeGraph
from kg.core.namespaces import IGKG, MESH, RDF, RDFS, SD, VOID, XSD
from kg.endpoint import EndpointConfig, create_app

pytestmark = pytest.mark.slow

NEOPLASMS = str(MESH.D009369)
MESH_FILE = "mesh/samples.nt"
RG_FILE = "radiogenomics/nsclc_radiogenomics_original_features.csv"
BASE = "https://w3id.org/igkg/id/"
FEATURE = URIRef(BASE + "feature/original_shape_Sphericity")
MARKER = URIRef(BASE + "marker/EGFR-mutation-status")
ASSOCIATION = URIRef(BASE + "association/test-sphericity-egfr")


def _mesh_facts(shared: Path) -> tuple[int, set[str]]:
    """Triples in the MeSH sample, and the labels of D009369, read off the file by hand."""
    lines = [l for l in (shared / MESH_FILE).read_text(encoding="utf-8").splitlines() if l.strip() and not l.startswith("#")]
    labels = set()
    for line in lines:
        m = re.match(r'<http://id.nlm.nih.gov/mesh/D009369> <http://www.w3.org/2000/01/rdf-schema#label> "(.*)"@en \.', line)
        if m:
            labels.add(m.group(1))
    return len(set(lines)), labels


def _association(shared: Path) -> tuple[list[tuple], float]:
    """Sphericity vs EGFR mutation status (Mann-Whitney, scipy) as igkg association triples."""
    table = pd.read_csv(shared / RG_FILE)
    mutant = table.loc[table["EGFR mutation status"] == 1, "original_shape_Sphericity"]
    wild = table.loc[table["EGFR mutation status"] == 0, "original_shape_Sphericity"]
    result = stats.mannwhitneyu(mutant, wild, alternative="two-sided")
    triples = [
        (ASSOCIATION, RDF.type, IGKG.RadiogenomicAssociation),
        (ASSOCIATION, IGKG.feature, FEATURE),
        (ASSOCIATION, IGKG.target, MARKER),
        (ASSOCIATION, IGKG.pValue, Literal(float(result.pvalue), datatype=XSD.double)),
        (ASSOCIATION, IGKG.sampleSize, Literal(len(table), datatype=XSD.integer)),
        (FEATURE, RDFS.label, Literal("original_shape_Sphericity")),
        (MARKER, RDFS.label, Literal("EGFR mutation status")),
        (MARKER, RDF.type, IGKG.Marker),
    ]
    return triples, float(result.pvalue)


def _build(kg: KnowledgeGraph, shared: Path) -> None:
    triples, _ = _association(shared)
    kg.load(shared / MESH_FILE, kind="rdf")
    kg.ingest("associations/test", triples, kind="associations")


@pytest.fixture(scope="module")
def template(shared_data: Path, store_template: Callable[..., Path]) -> Path:
    """The store, built once per session; never served or written itself."""
    return store_template("endpoint", lambda kg: _build(kg, shared_data))


@pytest.fixture(scope="module")
def facts(template: Path, shared_data: Path) -> dict:
    """What the tests expect: read off the source files, and the store's graph list."""
    with KnowledgeGraph(template, read_only=True) as kg:
        graphs = kg.graphs()
    count, labels = _mesh_facts(shared_data)
    _, pvalue = _association(shared_data)
    return {"mesh_triples": count, "labels": labels, "pvalue": pvalue, "graphs": graphs}


@pytest.fixture
def store(facts: dict, template: Path, fresh_store: Callable[[Path], Path]) -> dict:
    """The expected facts, and a fresh copy of the store for a test that starts its own server."""
    return {**facts, "folder": fresh_store(template)}


@pytest.fixture(scope="module")
def url(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint, started once for the module (a start spawns the query workers: seconds).

    It opens its own copy of the store read-only and takes no updates, so no test can
    change what the next one sees.
    """
    folder = tmp_path_factory.mktemp("endpoint") / "store"
    shutil.copytree(template, folder, ignore=shutil.ignore_patterns("LOCK"))
    with running_server(create_app(folder, EndpointConfig(timeout=60, max_rows=5000))) as base:
        yield base


def _get(url: str, query: str, **kwargs) -> httpx.Response:
    return httpx.get(url + "/sparql", params={"query": query, **kwargs.pop("params", {})}, timeout=60, **kwargs)


LABEL_QUERY = f'SELECT ?label WHERE {{ <{NEOPLASMS}> rdfs:label ?label }}'


def test_get_post_form_and_post_body_agree(url: str, store: dict) -> None:
    headers = {"Accept": "application/sparql-results+json"}
    by_get = _get(url, LABEL_QUERY, headers=headers)
    by_form = httpx.post(url + "/sparql", data={"query": LABEL_QUERY}, headers=headers, timeout=60)
    by_body = httpx.post(url + "/sparql", content=LABEL_QUERY.encode(), timeout=60,
                         headers={**headers, "Content-Type": "application/sparql-query"})
    answers = []
    for response in (by_get, by_form, by_body):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/sparql-results+json")
        answers.append({b["label"]["value"] for b in response.json()["results"]["bindings"]})
    assert answers[0] == answers[1] == answers[2] == store["labels"] == {"Neoplasms"}


def test_select_formats_by_accept_and_format(url: str) -> None:
    query = f"SELECT ?s ?label WHERE {{ ?s rdfs:label ?label FILTER(?s = <{NEOPLASMS}>) }}"
    xml = _get(url, query, headers={"Accept": "application/sparql-results+xml"})
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    assert "<literal xml:lang=\"en\">Neoplasms</literal>" in xml.text
    csv_text = _get(url, query, headers={"Accept": "text/csv"}).text
    assert list(csv.reader(io.StringIO(csv_text))) == [["s", "label"], [NEOPLASMS, "Neoplasms"]]
    tsv = _get(url, query, params={"format": "tsv"})
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert tsv.text.splitlines() == ["?s\t?label", f'<{NEOPLASMS}>\t"Neoplasms"@en']
    # q-values: the best acceptable type wins
    ranked = _get(url, query, headers={"Accept": "text/csv;q=0.2, application/sparql-results+xml;q=0.9"})
    assert ranked.headers["content-type"].startswith("application/sparql-results+xml")
    ask = _get(url, f"ASK {{ <{NEOPLASMS}> ?p ?o }}", params={"format": "json"})
    assert ask.json() == {"head": {}, "boolean": True}


def test_construct_in_every_rdf_format_is_the_same_graph(url: str) -> None:
    query = f"CONSTRUCT {{ <{NEOPLASMS}> ?p ?o }} WHERE {{ <{NEOPLASMS}> ?p ?o }}"
    graphs = {}
    for media, rdflib_format in [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/n-quads", "nquads"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ]:
        response = _get(url, query, headers={"Accept": media})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        graph = Graph()
        graph.parse(data=response.text, format=rdflib_format)
        graphs[media] = graph
    reference = graphs["application/n-triples"]
    assert (URIRef(NEOPLASMS), RDFS.label, Literal("Neoplasms", lang="en")) in reference
    for media, graph in graphs.items():
        assert isomorphic(graph, reference), media


def test_protocol_dataset_selects_graphs(url: str, store: dict) -> None:
    graphs = store["graphs"]
    mesh_graph = graphs.loc[graphs["kind"] == "rdf", "graph"].iloc[0]
    assoc_graph = graphs.loc[graphs["kind"] == "associations", "graph"].iloc[0]
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    only_mesh = _get(url, count, params={"default-graph-uri": mesh_graph, "format": "json"}).json()
    assert int(only_mesh["results"]["bindings"][0]["n"]["value"]) == store["mesh_triples"]
    # named-graph-uri only: an empty default graph, and GRAPH sees exactly the listed graphs
    named = _get(url, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                 params={"named-graph-uri": assoc_graph, "format": "json"}).json()
    assert [b["g"]["value"] for b in named["results"]["bindings"]] == [assoc_graph]
    empty_default = _get(url, count, params={"named-graph-uri": assoc_graph, "format": "json"}).json()
    assert empty_default["results"]["bindings"][0]["n"]["value"] == "0"
    # the same by POST form, both parameters repeated
    form = httpx.post(url + "/sparql", timeout=60, headers={"Accept": "application/sparql-results+json"},
                      data={"query": count, "default-graph-uri": [mesh_graph, assoc_graph]})
    assert int(form.json()["results"]["bindings"][0]["n"]["value"]) == store["mesh_triples"] + 8


def test_malformed_query_is_400_with_position(url: str) -> None:
    response = _get(url, "SELECT * WHERE { ?s ?p }")
    assert response.status_code == 400
    assert "line:1" in response.text and "col:" in response.text


def test_status_codes_406_415_405(url: str) -> None:
    assert _get(url, LABEL_QUERY, headers={"Accept": "image/png"}).status_code == 406
    assert _get(url, LABEL_QUERY, params={"format": "turtle"}).status_code == 406  # SELECT has no Turtle
    bad_type = httpx.post(url + "/sparql", content=LABEL_QUERY, headers={"Content-Type": "text/plain"}, timeout=60)
    assert bad_type.status_code == 415
    assert httpx.put(url + "/sparql", content=LABEL_QUERY, timeout=60).status_code == 405
    assert httpx.delete(url + "/sparql", timeout=60).status_code == 405


def test_service_description_and_void(url: str, store: dict) -> None:
    response = httpx.get(url + "/sparql", headers={"Accept": "text/turtle"}, timeout=60)
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    endpoint = URIRef(url + "/sparql")
    assert (endpoint, RDF.type, SD.Service) in graph
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Update) not in graph  # read-only
    mesh_graph = URIRef(store["graphs"].loc[store["graphs"]["kind"] == "rdf", "graph"].iloc[0])
    assert graph.value(mesh_graph, VOID.triples).toPython() == store["mesh_triples"]
    void = httpx.get(url + "/.well-known/void", headers={"Accept": "application/ld+json"}, timeout=60)
    void_graph = Graph().parse(data=void.text, format="json-ld")
    datasets = set(void_graph.subjects(VOID.sparqlEndpoint, URIRef(url + "/sparql")))
    assert len(datasets) == 1
    dataset = datasets.pop()
    assert void_graph.value(dataset, VOID.triples).toPython() >= store["mesh_triples"] + 8


def test_sparqlwrapper_and_rdflib_sparqlstore_as_clients(url: str, store: dict) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from SPARQLWrapper import JSON, SPARQLWrapper

    client = SPARQLWrapper(url + "/sparql")
    client.setQuery(LABEL_QUERY)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert {r["label"]["value"] for r in rows} == store["labels"]
    client.setMethod("POST")
    client.setQuery(f"ASK {{ <{NEOPLASMS}> a meshv:TopicalDescriptor }}")
    assert client.query().convert()["boolean"] is True

    remote = Graph(store=SPARQLStore(url + "/sparql", returnFormat="xml"))
    labels = {str(o) for o in remote.objects(URIRef(NEOPLASMS), RDFS.label)}
    assert labels == store["labels"]


def test_result_row_cap_is_an_error_naming_the_cap(store: dict) -> None:
    app = create_app(store["folder"], EndpointConfig(max_rows=50, workers=1))
    with running_server(app) as base:
        at_cap = _get(base, "SELECT * WHERE { ?s ?p ?o } LIMIT 50", params={"format": "csv"})
        assert at_cap.status_code == 200 and at_cap.headers["X-IGKG-Rows"] == "50"
        over = _get(base, "SELECT * WHERE { ?s ?p ?o } LIMIT 51", params={"format": "json"})
        assert over.status_code == 422 and "more than 50 rows" in over.text
        construct = _get(base, "CONSTRUCT WHERE { ?s ?p ?o }", headers={"Accept": "text/turtle"})
        assert construct.status_code == 422 and "more than 50 triples" in construct.text


def test_entity_page_html_and_rdf(url: str, store: dict) -> None:
    page = httpx.get(url + "/entity", params={"iri": "MESH:D009369"}, headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Neoplasms</h1>" in page.text
    turtle = httpx.get(url + "/entity", params={"iri": NEOPLASMS}, headers={"Accept": "text/turtle"}, timeout=60)
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert (URIRef(NEOPLASMS), RDFS.label, Literal("Neoplasms", lang="en")) in graph
    # the association shows on the feature's page, with scipy's p-value
    feature = httpx.get(url + "/entity", params={"iri": str(FEATURE)}, headers={"Accept": "text/html"}, timeout=60)
    assert "Radiogenomic associations (1)" in feature.text
    assert "EGFR mutation status" in feature.text
    jsonld = httpx.get(url + "/entity", params={"iri": str(FEATURE), "format": "jsonld"}, timeout=60)
    assoc = Graph().parse(data=jsonld.text, format="json-ld")
    assert float(assoc.value(ASSOCIATION, IGKG.pValue)) == pytest.approx(store["pvalue"], rel=1e-12)


def test_query_page_serves_yasgui_from_the_package(url: str) -> None:
    page = httpx.get(url + "/", timeout=60)
    assert page.status_code == 200
    assert '<script src="/static/yasgui/yasgui.min.js">' in page.text
    assert "cdn" not in page.text.lower() and "unpkg" not in page.text.lower()
    script = httpx.get(url + "/static/yasgui/yasgui.min.js", timeout=60)
    assert script.status_code == 200 and "Yasgui" in script.text
    browser = httpx.get(url + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, timeout=60)
    assert "yasgui.min.js" in browser.text


def test_named_queries_as_rest_routes(url: str) -> None:
    from kg.endpoint.pages import named_queries

    queries = named_queries()
    listing = httpx.get(url + "/api/queries", timeout=60).json()
    assert [q["name"] for q in listing] == list(queries)
    schema = httpx.get(url + "/openapi.json", timeout=60).json()
    assert "/api/queries/{name}" in schema["paths"] and "/sparql" in schema["paths"]
    assert httpx.get(url + "/api/queries/no_such_query", timeout=60).status_code == 404
    if not queries:
        pytest.skip("no named queries in queries/ yet")
    name, query = next(iter(queries.items()))
    bad = httpx.get(url + f"/api/queries/{name}", params={"no_such_parameter": "x"}, timeout=60)
    assert bad.status_code == 404 and "no_such_parameter" in bad.text
    ok = httpx.get(url + f"/api/queries/{name}", timeout=60)
    if any(p.required for p in query.params):
        assert ok.status_code == 404
    else:
        assert ok.status_code == 200, ok.text
        assert "results" in ok.json() or "boolean" in ok.json()


def test_health_and_cors_off_by_default(url: str) -> None:
    health = httpx.get(url + "/health", timeout=60)
    assert health.json()["status"] == "ok" and health.json()["workers"] == 2
    response = _get(url, LABEL_QUERY, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_json_results_are_valid_for_unicode_and_bnodes(url: str) -> None:
    response = _get(url, 'SELECT ?x ?b WHERE { BIND("Ünïcødé \\" \\n" AS ?x) BIND(BNODE() AS ?b) }', params={"format": "json"})
    row = json.loads(response.content)["results"]["bindings"][0]
    assert row["x"]["value"] == 'Ünïcødé " \n' and row["b"]["type"] == "bnode"
