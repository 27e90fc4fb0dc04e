"""owlready2/HermiT reasoning on real data: inferred types and hierarchy visible to plain SPARQL,
checked against the raw feature table and OBO file; repeatable; inconsistencies explained."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kg import KnowledgeGraph
from kg.cli import app
from kg.core.namespaces import HP
from kg.analysis.reasoning import INFERENCE_KEY, materialise

ROOT = Path(__file__).resolve().parents[3]
FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
TEXTURE = ("glcm", "glrlm", "glszm", "gldm", "ngtdm")


def hpo_descendants(path: Path, top: str) -> set[str]:
    children: dict[str, set[str]] = {}
    for stanza in path.read_text(encoding="utf-8").split("[Term]")[1:]:
        term = re.search(r"^id: (\S+)", stanza, re.M).group(1)
        for parent in re.findall(r"^is_a: (\S+)", stanza, re.M):
            children.setdefault(parent, set()).add(term)
    seen, todo = set(), [top]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def inference_graphs(kg: KnowledgeGraph) -> list[str]:
    catalog = kg.graphs()
    return list(catalog.loc[catalog["source"] == INFERENCE_KEY, "graph"])


@pytest.mark.slow
def test_inferred_types_and_hierarchy_are_seen_by_plain_sparql(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(ROOT / "ontologies/igkg.ttl", kind="rdf")
    kg.load(shared_data / FEATURES, kind="radiomics-csv")
    kg.load(shared_data / "obo/scout_reduced.hpo.obo", kind="obo")
    texture_query = "SELECT DISTINCT ?name WHERE { ?f a igkg:TextureFeature ; igkg:pyradiomicsName ?name }"
    assert len(kg.query(texture_query)) == 0  # only the leaf classes (GLCM ...) are stated
    report = materialise(kg)
    assert report.consistent and report.inferred_types > 0 and report.inferred_subclass > 0
    columns = pd.read_csv(shared_data / FEATURES, nrows=1).columns
    features = [c for c in columns if re.match(r"^original_(shape|firstorder|glcm|glrlm|glszm|gldm|ngtdm)_", c)]
    texture = {c for c in features if c.split("_")[1] in TEXTURE}
    assert set(kg.query(texture_query)["name"]) == texture
    radiomic = kg.query("SELECT DISTINCT ?name WHERE { ?f a igkg:ImagingPhenotype ; igkg:pyradiomicsName ?name }")
    assert set(radiomic["name"]) == set(features)
    # all neoplasms of the skin, at any depth, without a property path
    expected = hpo_descendants(shared_data / "obo/scout_reduced.hpo.obo", "HP:0008069")
    found = kg.query(f"SELECT DISTINCT ?c WHERE {{ ?c rdfs:subClassOf <{HP}0008069> }}")
    assert {c.replace(str(HP), "HP:") for c in found["c"]} == expected and len(expected) >= 3
    # the subclass closure of the model itself
    assert kg.query("ASK { igkg:GLCMFeature rdfs:subClassOf igkg:ImagingPhenotype }") is True


@pytest.mark.slow
def test_materialisation_is_repeatable_and_replaces_its_own_graph(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(ROOT / "ontologies/igkg.ttl", kind="rdf")
    first = materialise(kg)
    again = materialise(kg)
    assert again.graph == first.graph and again.skipped
    assert inference_graphs(kg) == [first.graph]
    kg.load(shared_data / "obo/oak_go-nucleus.obo", kind="obo")
    third = materialise(kg)
    assert third.graph != first.graph and inference_graphs(kg) == [third.graph]
    assert third.relation_edges > 0
    # nuclear membrane is part_of nuclear envelope, which is part_of nucleus: the closure has both
    assert kg.query("ASK { obo:GO_0031965 obo:BFO_0000050 obo:GO_0005634 }") is True
    inferred = kg.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{third.graph}> {{ ?s ?p ?o }} }}")["n"].iloc[0]
    assert inferred == third.inferred_subclass + third.inferred_equivalent + third.inferred_types + third.relation_edges


@pytest.mark.slow
def test_inconsistency_is_reported_with_the_offending_axioms(kg: KnowledgeGraph, test_data: Path) -> None:
    kg.load(ROOT / "ontologies/igkg.ttl", kind="rdf")
    good = materialise(kg)
    kg.load(test_data / "reasoning/conflicts/gene_typed_as_pathway.ttl", kind="rdf")
    report = materialise(kg)
    assert not report.consistent
    text = " ".join(report.explanation)
    assert "http://identifiers.org/ncbigene/1956" in text
    assert "igkg:Gene owl:disjointWith igkg:Pathway" in text
    assert "gene_typed_as_pathway.ttl" in text
    assert inference_graphs(kg) == [good.graph]  # nothing written from an inconsistent graph


@pytest.mark.slow
def test_reason_command(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["--store", store, "load", str(ROOT / "ontologies/igkg.ttl"), "--kind", "rdf"]).exit_code == 0
    result = runner.invoke(app, ["--store", store, "reason"])
    assert result.exit_code == 0, result.output
    assert "inferences/owlready2" in result.stdout
