"""The igkg ontology: well-formed, every term labelled and defined, consistent under HermiT."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import owlready2
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.core.namespaces import IGKG

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(data=resources.files("ontologies").joinpath("igkg.ttl").read_text(encoding="utf-8"), format="turtle")


def _igkg_terms(graph: Graph) -> set[URIRef]:
    return {
        s
        for kind in TERM_TYPES
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(str(IGKG)) and s != URIRef(str(IGKG))
    }


def test_every_term_has_a_label_and_a_definition(ontology: Graph) -> None:
    terms = _igkg_terms(ontology)
    assert len(terms) > 60
    unlabelled = sorted(t for t in terms if (t, RDFS.label, None) not in ontology)
    undefined = sorted(t for t in terms if (t, SKOS.definition, None) not in ontology)
    assert not unlabelled, unlabelled
    assert not undefined, undefined


def test_every_igkg_iri_used_is_declared(ontology: Graph) -> None:
    used = {t for triple in ontology for t in triple if isinstance(t, URIRef) and str(t).startswith(str(IGKG))}
    declared = _igkg_terms(ontology) | {URIRef(str(IGKG))}
    assert used <= declared, sorted(used - declared)


def test_core_classes_of_the_data_model_are_there(ontology: Graph) -> None:
    for name in (
        "Subject", "ImagingStudy", "Image", "Segmentation", "RadiomicFeature", "FeatureMeasurement",
        "Gene", "Pathway", "Disease", "MolecularMeasurement", "RadiogenomicAssociation", "Cohort",
    ):
        assert (IGKG[name], RDF.type, OWL.Class) in ontology, name
    for name in ("pValue", "qValue", "statistic", "sampleSize", "method", "cohort", "feature", "target"):
        assert (IGKG[name], RDFS.domain, IGKG.RadiogenomicAssociation) in ontology or (
            IGKG[name], RDFS.domain, IGKG.Association
        ) in ontology or name in {"feature", "cohort", "method"}, name


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")
def test_hermit_finds_the_ontology_consistent(ontology: Graph, tmp_path: Path) -> None:
    flat = tmp_path / "igkg.nt"
    ontology.serialize(flat, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(flat.as_uri()).load(format="ntriples")
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
    texture = world[str(IGKG.TextureFeature)]
    assert world[str(IGKG.GLCMFeature)] in texture.descendants()
