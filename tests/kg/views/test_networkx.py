"""The networkx view on real data: lossless round trip of the association model, traversal helpers
checked against the raw files (GMT rows, ClinVar rows, the feature table) read with pandas."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from rdflib import Graph

from kg import KnowledgeGraph
from kg.core.errors import QuerySyntaxError
from kg.core.namespaces import IGKG, NCBIGENE, UMLS
from kg.views.networkx import (
    centrality,
    find_nodes,
    graph_to_networkx,
    modules,
    neighbourhood,
    networkx_to_rdf,
    shortest_paths,
)

ROOT = Path(__file__).resolve().parents[3]
FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"

ASSOCIATION_SUBGRAPH = """
CONSTRUCT { ?a ?p ?o . ?x ?xp ?xo } WHERE {
  ?a a igkg:RadiogenomicAssociation .
  { ?a ?p ?o } UNION { ?a igkg:feature|igkg:target ?x . ?x ?xp ?xo }
}"""


def _build(kg: KnowledgeGraph, shared_data: Path) -> None:
    from kg.analysis.associations import run_analysis, write_run

    kg.load(shared_data / "genes/scout_hgnc_reduced_set.txt", kind="hgnc")
    kg.load(shared_data / "reactome/ReactomePathways.gmt", kind="gmt")
    kg.load(ROOT / "tests/data/gene_disease/good/gene_condition_source_id", kind="gene-disease")
    kg.load(shared_data / FEATURES, kind="radiomics-csv", cohort="NSCLC-Radiogenomics")
    write_run(kg, run_analysis(kg, markers=["EGFR"], q_max=1.0))


@pytest.fixture(scope="module")
def template(shared_data: Path, store_template: Callable[..., Path]) -> Path:
    """The store the tests read, built once per session; tests get a copy (``graph``)."""
    return store_template("networkx", lambda kg: _build(kg, shared_data))


@pytest.fixture
def graph(template: Path, fresh_store: Callable[[Path], Path]) -> Iterator[KnowledgeGraph]:
    """A fresh copy of the store for each test."""
    with KnowledgeGraph(fresh_store(template)) as kg:
        yield kg


@pytest.fixture(scope="module")
def whole(template: Path) -> nx.MultiDiGraph:
    """The whole graph's view, built once (about 150k triples) and frozen so that no test can change it."""
    with KnowledgeGraph(template, read_only=True) as kg:
        return nx.freeze(kg.to_networkx())


@pytest.fixture(scope="module")
def associations(template: Path) -> Graph:
    with KnowledgeGraph(template, read_only=True) as kg:
        result = kg.query(ASSOCIATION_SUBGRAPH)
    assert isinstance(result, Graph)
    return result


def test_an_association_is_one_edge_with_all_its_statistics(graph: KnowledgeGraph, associations: Graph) -> None:
    G = graph_to_networkx(associations)
    edges = [(u, v, d) for u, v, d in G.edges(data=True) if "association" in d]
    stats = graph.query(
        "SELECT ?a ?f ?t ?q ?p ?n ?run WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:feature ?f ; igkg:target ?t ;"
        " igkg:qValue ?q ; igkg:pValue ?p ; igkg:sampleSize ?n ; prov:wasGeneratedBy ?run }"
    ).set_index("a")
    assert len(edges) == len(stats) > 100
    for u, v, d in edges:
        row = stats.loc[d["association"]]
        assert (u, v) == (row["f"], row["t"])
        assert d["q"] == pytest.approx(row["q"], rel=1e-12)
        assert d["p"] == pytest.approx(row["p"], rel=1e-12)
        assert d["n"] == row["n"] and d["run"] == row["run"]
        assert "igkg:RadiogenomicAssociation" in d["types"]
    assert "igkg:RadiogenomicAssociation" not in {t for _, t in G.nodes(data="type")}
    assert not any(str(IGKG.RadiogenomicAssociation) in d["type_iris"] for _, d in G.nodes(data=True))
    marker = find_nodes(G, "EGFR mutation status")
    assert len(marker) == 1 and G.nodes[marker[0]]["type"] == "igkg:Marker"


def test_round_trip_of_the_association_subgraph_is_lossless(associations: Graph) -> None:
    back = networkx_to_rdf(graph_to_networkx(associations))
    assert set(back) == set(associations)
    assert len(back) == len(associations) > 1000


@pytest.mark.slow
def test_whole_graph_view_and_query_results_that_are_not_graphs(graph: KnowledgeGraph, whole: nx.MultiDiGraph) -> None:
    G = whole
    assert isinstance(G, nx.MultiDiGraph)
    triples = graph.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")["n"].iloc[0]
    assert len(networkx_to_rdf(G)) == triples
    with pytest.raises(QuerySyntaxError):
        graph.to_networkx("SELECT * WHERE { ?s ?p ?o }")


def gmt_rows(path: Path) -> pd.DataFrame:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        rows.append({"name": fields[0], "id": fields[1], "genes": set(filter(None, fields[2:]))})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_neighbourhood_of_a_gene_holds_its_pathways_and_disease(whole: nx.MultiDiGraph, shared_data: Path) -> None:
    G = whole
    gmt = gmt_rows(shared_data / "reactome/ReactomePathways.gmt")
    expected = set(gmt.loc[gmt["genes"].apply(lambda g: "TP53" in g), "id"])
    clinvar = pd.read_csv(ROOT / "tests/data/gene_disease/good/gene_condition_source_id", sep="\t")
    row = clinvar[clinvar["AssociatedGenes"] == "TP53"].iloc[0]
    tp53 = str(NCBIGENE[str(row["#GeneID"])])
    around = neighbourhood(G, tp53, k=1)
    pathways = {n.rsplit("/", 1)[-1] for _, n, k in around.out_edges(tp53, keys=True) if k == "igkg:memberOf"}
    assert pathways == expected and len(expected) > 10
    assert str(UMLS[row["ConceptID"]]) in around


@pytest.mark.slow
def test_shortest_paths_walk_from_a_pathway_or_feature(whole: nx.MultiDiGraph, shared_data: Path) -> None:
    G = whole
    gmt = gmt_rows(shared_data / "reactome/ReactomePathways.gmt")
    pathway = gmt.loc[gmt["genes"].apply(lambda g: "TP53" in g), "id"].iloc[0]
    pathway_node = next(n for n in G if n.endswith("/" + pathway))
    disease = str(UMLS["C0085390"])
    paths = shortest_paths(G, pathway_node, disease)
    assert paths == [[pathway_node, str(NCBIGENE["7157"]), disease]]
    features = pd.read_csv(shared_data / FEATURES, nrows=1).columns
    feature = next(c for c in features if re.match(r"original_glcm_", c))
    to_marker = shortest_paths(G, feature, "EGFR mutation status")
    assert len(to_marker) == 1 and len(to_marker[0]) == 2
    assert shortest_paths(G, feature, disease) == []


def test_modules_and_centrality(graph: KnowledgeGraph, associations: Graph, shared_data: Path) -> None:
    G = graph_to_networkx(associations)
    columns = pd.read_csv(shared_data / FEATURES, nrows=1).columns
    tested = [c for c in columns if re.match(r"^original_(shape|firstorder|glcm|glrlm|glszm|gldm|ngtdm)_", c)]
    found = modules(G)
    assert len(found) == 1 and len(found[0]) == len(tested) + 1
    ranked = centrality(G, measure="degree")
    assert ranked["label"].iloc[0] == "EGFR mutation status"
    assert ranked["score"].iloc[0] > ranked["score"].iloc[1]
    between = centrality(G, measure="betweenness", types=["igkg:Marker"])
    assert list(between["label"]) == ["EGFR mutation status"]
