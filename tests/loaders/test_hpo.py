"""HPO loaders on HPO's own files: facts and counts read off the files with csv are found by SPARQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from rdflib import Literal, URIRef

from kg import KnowledgeGraph
from kg.core.errors import LoadError

GENES_TO_DISEASE = "diseases/hpo_genes_to_disease.txt"
BAD = Path(__file__).resolve().parents[1] / "data" / "hpo" / "bad"
BASES = {"OMIM": "http://identifiers.org/mim/", "ORPHA": "http://identifiers.org/orphanet/", "ORPHANET": "http://identifiers.org/orphanet/"}


def _disease(curie: str) -> URIRef:
    prefix, local = curie.split(":")
    return URIRef(BASES[prefix] + local)


def _gene(ncbi_id: str) -> URIRef:
    return URIRef("http://identifiers.org/ncbigene/" + ncbi_id.removeprefix("NCBIGene:"))


def _count(kg: KnowledgeGraph, sparql: str) -> int:
    result = kg.query(sparql)
    assert isinstance(result, pd.DataFrame)
    return int(result["n"].iloc[0])


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))


# ---------------------------------------------------------------------------- genes_to_disease
def test_genes_to_disease_links_every_pair(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / GENES_TO_DISEASE
    rows = _rows(path)
    report = kg.load(path)
    assert report.kind == "hpo-genes-to-disease"
    assert report.records_read == len(rows)
    assert not report.rejected
    pairs = {(r["ncbi_gene_id"], r["disease_id"]) for r in rows}
    assert _count(kg, "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a igkg:GeneDiseaseAssociation }") == len(pairs)
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?g igkg:associatedWithDisease ?d }") == len(pairs)
    assert _count(kg, "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a igkg:Disease }") == len({r["disease_id"] for r in rows})
    assert _count(kg, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { ?g a igkg:Gene }") == len({r["ncbi_gene_id"] for r in rows})
    evidence = {(r["ncbi_gene_id"], r["disease_id"], r["association_type"]) for r in rows}
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?a a igkg:GeneDiseaseAssociation ; igkg:evidence ?e }") == len(evidence)


def test_egfr_reaches_lung_cancer_and_its_orphanet_diseases(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / GENES_TO_DISEASE
    egfr = [r for r in _rows(path) if r["gene_symbol"] == "EGFR"]
    lung = next(r for r in egfr if r["disease_id"] == "OMIM:211980")
    kg.load(path)
    assert kg.query(
        """ASK { ?a a igkg:GeneDiseaseAssociation ; igkg:gene ?g ; igkg:disease ?d ; igkg:evidence ?e ; dct:source ?s .
                 ?g a igkg:Gene ; igkg:associatedWithDisease ?d . ?d a igkg:Disease }""",
        {"g": _gene(lung["ncbi_gene_id"]), "d": _disease("OMIM:211980"),
         "e": Literal(f"HPO association type {lung['association_type']}"), "s": Literal(f"HPO genes_to_disease: {lung['source']}")},
    )
    found = kg.query("SELECT ?d WHERE { ?g igkg:associatedWithDisease ?d }", {"g": _gene(lung["ncbi_gene_id"])})
    assert set(found["d"]) == {str(_disease(r["disease_id"])) for r in egfr}
    assert any(r["disease_id"].startswith("ORPHA:") for r in egfr)


def test_genes_are_checked_against_the_loaded_genes(kg: KnowledgeGraph, shared_data: Path, test_data: Path) -> None:
    gene_info = test_data / "gene_info/good/Homo_sapiens.gene_info"
    kg.load(gene_info)
    with open(gene_info, newline="", encoding="utf-8") as handle:
        human = {r["GeneID"] for r in csv.DictReader(handle, delimiter="\t") if r["#tax_id"] == "9606"}
    path = shared_data / GENES_TO_DISEASE
    hpo_genes = {r["ncbi_gene_id"].removeprefix("NCBIGene:") for r in _rows(path)}
    report = kg.load(path)
    assert human & hpo_genes  # CHRM3 and TP53 are in both
    assert report.unmapped["ncbigene"] == hpo_genes - human
    # a gene the store does not know is still linked by its standard NCBI Gene IRI
    unknown = min(hpo_genes - human)
    assert kg.query("ASK { ?g igkg:associatedWithDisease ?d }", {"g": _gene(unknown)})
    # the approved symbol from gene_info stays the only label (HPO's symbol is not added)
    labels = kg.query("SELECT ?l WHERE { ?g rdfs:label ?l }", {"g": _gene("1131")})
    assert list(labels["l"]) == ["CHRM3"]


def test_label_genes_option_labels_genes_with_hpo_symbols(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / GENES_TO_DISEASE
    kg.load(path, label_genes=True)
    symbols = {(r["ncbi_gene_id"], r["gene_symbol"]) for r in _rows(path) if r["gene_symbol"] != "-"}
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?g a igkg:Gene ; rdfs:label ?l }") == len(symbols)


@pytest.mark.parametrize("name", ["diseases_to_genes.txt", "headerless_diseases_to_genes.txt"])
def test_older_diseases_to_genes_layout(kg: KnowledgeGraph, test_data: Path, name: str) -> None:
    path = test_data / "hpo/good" / name
    lines = [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    report = kg.load(path)
    assert report.kind == "hpo-genes-to-disease"
    assert report.records_read == len(lines)
    linked = {(c[1], c[0]) for c in lines if len(c) > 1}
    assert [r.record for r in report.rejected] == [c[0] for c in lines if len(c) == 1]  # a disease without a gene
    found = kg.query("SELECT ?g ?d WHERE { ?g igkg:associatedWithDisease ?d }")
    assert set(zip(found["g"], found["d"], strict=True)) == {(str(_gene(g)), str(_disease(d))) for g, d in linked}


# ---------------------------------------------------------------------------- phenotype.hpoa
def test_hpoa_labels_diseases_and_links_positive_phenotypes(kg: KnowledgeGraph, test_data: Path) -> None:
    path = test_data / "hpo/good/phenotype_head.hpoa"
    rows = _rows(path)
    report = kg.load(path)
    assert report.kind == "hpo-annotations"
    assert report.records_read == len(rows)
    names = {(r["database_id"], r["disease_name"]) for r in rows}
    found = kg.query("SELECT ?d ?l WHERE { ?d a igkg:Disease ; rdfs:label ?l }")
    assert set(zip(found["d"], found["l"], strict=True)) == {(str(_disease(d)), n) for d, n in names}
    positive = {(r["database_id"], r["hpo_id"]) for r in rows if r["aspect"] == "P" and r["qualifier"] != "NOT"}
    linked = kg.query("SELECT ?d ?p WHERE { ?d obo:RO_0002200 ?p }")
    assert set(zip(linked["d"], linked["p"], strict=True)) == {
        (str(_disease(d)), "http://purl.obolibrary.org/obo/" + p.replace(":", "_")) for d, p in positive
    }
    negated = next(r for r in rows if r["qualifier"] == "NOT")
    assert not kg.query("ASK { ?d obo:RO_0002200 ?p }", {"d": _disease(negated["database_id"]),
                                                        "p": URIRef("http://purl.obolibrary.org/obo/" + negated["hpo_id"].replace(":", "_"))})


# ---------------------------------------------------------------------------- bad files
@pytest.mark.parametrize("path", sorted(p for p in BAD.iterdir() if p.suffix != ".expected"), ids=lambda p: p.name)
def test_bad_file_is_refused_and_the_store_unchanged(kg: KnowledgeGraph, test_data: Path, path: Path) -> None:
    expected = (path.parent / (path.name + ".expected")).read_text().strip()
    kg.load(test_data / "gene_info/good/Homo_sapiens.gene_info")
    before = kg.stats().triples
    with pytest.raises(LoadError) as info:
        kg.load(path)
    assert path.name in str(info.value)
    assert expected in str(info.value)
    assert kg.stats().triples == before
