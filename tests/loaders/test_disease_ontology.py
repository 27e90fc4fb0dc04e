"""Disease Ontology reports: classes, parents and crosswalks read off the reports with csv, and
the ids of HPO, DO and MONDO meeting through them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from rdflib import Literal, URIRef

from kg import KnowledgeGraph
from kg.core.errors import LoadError

FOLDER = "diseases/disease_ontology"
BAD = Path(__file__).resolve().parents[1] / "data" / "disease_ontology" / "bad"
XREF_BASES = {"MIM": "http://identifiers.org/mim/", "MESH": "http://id.nlm.nih.gov/mesh/",
              "NCI": "http://purl.obolibrary.org/obo/NCIT_"}


def _doid(curie: str) -> URIRef:
    return URIRef("http://purl.obolibrary.org/obo/" + curie.replace(":", "_"))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _xrefs(folder: Path) -> set[tuple[str, str]]:
    """(DOID, xref) pairs of every <SOURCE>inDO report in the folder."""
    return {(r["id"], x.strip()) for p in folder.glob("*inDO.tsv") for r in _rows(p) for x in r["xrefs"].split(",") if x.strip()}


def _count(kg: KnowledgeGraph, sparql: str) -> int:
    result = kg.query(sparql)
    assert isinstance(result, pd.DataFrame)
    return int(result["n"].iloc[0])


def test_folder_gives_classes_labels_and_parents(kg: KnowledgeGraph, shared_data: Path) -> None:
    folder = shared_data / FOLDER
    human = _rows(folder / "HumanDO.tsv")
    report = kg.load(folder)
    assert report.kind == "disease-ontology"
    assert report.records_read == len(human) + sum(len(_rows(p)) for p in folder.glob("*inDO.tsv"))
    assert not report.rejected
    ids = {r["id"] for r in human} | {d for d, _ in _xrefs(folder)}
    labels = {r["label"]: r["id"] for r in human}
    roots = {r["subClassOf"] for r in human} - set(labels)
    assert roots == {"disease"}  # the root DOID:4 is named only as a parent
    assert _count(kg, "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a igkg:Disease , owl:Class }") == len(ids | {"DOID:4"})
    lung = next(r for r in human if r["id"] == "DOID:1324")
    assert lung["label"] == "lung cancer"
    assert kg.query("ASK { ?d rdfs:label ?l ; oboInOwl:id ?i ; rdfs:subClassOf ?p }",
                    {"d": _doid("DOID:1324"), "l": Literal("lung cancer"), "i": Literal("DOID:1324"),
                     "p": _doid(labels[lung["subClassOf"]])})
    parents = {(r["id"], r["subClassOf"]) for r in human}
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?d a igkg:Disease ; rdfs:subClassOf ?p }") == len(parents)
    top = kg.query("SELECT ?d WHERE { ?d rdfs:subClassOf ?root }", {"root": _doid("DOID:4")})
    assert set(top["d"]) == {str(_doid(d)) for d, p in parents if p == "disease"}


def test_xrefs_become_exact_matches_to_standard_iris(kg: KnowledgeGraph, shared_data: Path) -> None:
    folder = shared_data / FOLDER
    xrefs = _xrefs(folder)
    report = kg.load(folder)
    mapped = {(d, x) for d, x in xrefs if re.fullmatch(r"(MIM:\d{6}|MESH:[CD]\d+|NCI:C\d+)", x)}
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?d oboInOwl:hasDbXref ?x }") == len(xrefs)
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?d a igkg:Disease ; skos:exactMatch ?x }") == len(mapped)
    assert report.unmapped["xref"] == {x for _, x in xrefs - mapped}  # OMIM phenotypic series (MIM:PS...)
    lung = {x for d, x in xrefs if d == "DOID:1324"}
    assert "MIM:211980" in lung
    found = kg.query("SELECT ?x WHERE { ?d skos:exactMatch ?x }", {"d": _doid("DOID:1324")})
    assert set(found["x"]) == {XREF_BASES[x.split(":")[0]] + x.split(":")[1] for x in lung}


def test_one_report_alone(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / FOLDER / "OMIMinDO.tsv"
    rows = _rows(path)
    report = kg.load(path)
    assert report.kind == "disease-ontology"
    assert report.records_read == len(rows)
    labels = kg.query("SELECT ?d ?l WHERE { ?d a igkg:Disease ; rdfs:label ?l }")
    assert set(zip(labels["d"], labels["l"], strict=True)) == {(str(_doid(r["id"])), r["label"]) for r in rows}


def test_hpo_omim_meets_doid_lung_cancer_in_the_crosswalk(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / "diseases/hpo_genes_to_disease.txt")
    kg.load(shared_data / FOLDER)
    answer = kg.ask("crosswalk", term="OMIM:211980")
    assert isinstance(answer, pd.DataFrame)
    lung = answer[answer["equivalent"] == str(_doid("DOID:1324"))]
    assert list(lung["vocabulary"]) == ["DOID"] and list(lung["labels"]) == ["lung cancer"]
    row = next(r for r in _rows(shared_data / FOLDER / "OMIMinDO.tsv") if r["id"] == "DOID:1324")
    assert {XREF_BASES["MIM"] + x.strip().split(":")[1] for x in row["xrefs"].split(",")} <= set(answer["equivalent"])
    # from lung cancer back to the genes HPO links to OMIM:211980
    genes = kg.query("""SELECT DISTINCT ?g WHERE {
        ?doid (skos:exactMatch|^skos:exactMatch)* ?d . ?g igkg:associatedWithDisease ?d }""", {"doid": _doid("DOID:1324")})
    hpo = _rows_hpo(shared_data)
    omim = {x.strip() for x in row["xrefs"].split(",")}
    assert set(genes["g"]) == {"http://identifiers.org/ncbigene/" + g.removeprefix("NCBIGene:") for g, d in hpo if "MIM:" + d.split(":")[1] in omim and d.startswith("OMIM:")}


def _rows_hpo(shared_data: Path) -> list[tuple[str, str]]:
    with open(shared_data / "diseases/hpo_genes_to_disease.txt", newline="", encoding="utf-8") as handle:
        return [(r["ncbi_gene_id"], r["disease_id"]) for r in csv.DictReader(handle, delimiter="\t")]


def test_gene_alias_reaches_mondo_through_hpo_and_do(kg: KnowledgeGraph, shared_data: Path, test_data: Path) -> None:
    """CHRM3 (by its alias HM3) -HPO-> OMIM:100100 <-DO- DOID:0060889 <-MONDO xref- MONDO:0007032."""
    kg.load(test_data / "gene_info/good/Homo_sapiens.gene_info")
    kg.load(shared_data / "diseases/hpo_genes_to_disease.txt")
    kg.load(shared_data / FOLDER)
    kg.load(shared_data / "obo/oak_mondo-sample-mappings.obo")
    mondo = next(s for s in (shared_data / "obo/oak_mondo-sample-mappings.obo").read_text().split("[Term]") if "id: MONDO:0007032" in s)
    doid = re.search(r"^xref: (DOID:\d+)", mondo, re.MULTILINE)
    assert doid is not None
    found = kg.query("""SELECT DISTINCT ?m WHERE {
        ?g skos:altLabel ?alias ; igkg:associatedWithDisease ?d .
        ?d (skos:exactMatch|^skos:exactMatch)* ?m . ?m a igkg:Disease ; rdfs:label ?l .
        FILTER(STRSTARTS(STR(?m), "http://purl.obolibrary.org/obo/MONDO_")) }""", {"alias": Literal("HM3")})
    assert set(found["m"]) == {"http://purl.obolibrary.org/obo/MONDO_0007032"}
    answer = kg.ask("crosswalk", term="MONDO:0007032")
    assert isinstance(answer, pd.DataFrame)
    assert {str(_doid(doid.group(1))), "http://identifiers.org/mim/100100"} <= set(answer["equivalent"])


@pytest.mark.parametrize("path", sorted(p for p in BAD.iterdir() if p.suffix != ".expected"), ids=lambda p: p.name)
def test_bad_report_is_refused_and_the_store_unchanged(kg: KnowledgeGraph, test_data: Path, path: Path) -> None:
    expected = (path.parent / (path.name + ".expected")).read_text().strip()
    kg.load(test_data / "gene_info/good/Homo_sapiens.gene_info")
    before = kg.stats().triples
    with pytest.raises(LoadError) as info:
        kg.load(path, kind="disease-ontology")
    assert path.name in str(info.value)
    assert expected in str(info.value)
    assert kg.stats().triples == before
