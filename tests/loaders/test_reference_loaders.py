"""Reference-knowledge loaders on real samples: facts read off the files are found by SPARQL."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.core.errors import LoadError
from loaders.reactome import SPECIES

HGNC_SAMPLE = "genes/scout_hgnc_reduced_set.txt"


def _ask(kg: KnowledgeGraph, sparql: str, **bindings: object) -> bool:
    result = kg.query(sparql, bindings or None)
    assert isinstance(result, bool)
    return result


def _select(kg: KnowledgeGraph, sparql: str, **bindings: object) -> pd.DataFrame:
    result = kg.query(sparql, bindings or None)
    assert isinstance(result, pd.DataFrame)
    return result


def _hgnc_rows(path: Path) -> list[dict[str, str]]:
    """The HGNC sample read with the csv module: cells matched to the header by position."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        return [dict(zip(header, row, strict=False)) for row in reader if row]


# ---------------------------------------------------------------------------- HGNC
def test_hgnc_genes_with_their_ids_and_aliases(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / HGNC_SAMPLE
    rows = _hgnc_rows(path)
    report = kg.load(path, kind="hgnc")
    assert report.records_read == len(rows) == 266
    assert not report.rejected
    count = _select(kg, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { ?g a igkg:Gene }")
    assert int(count["n"].iloc[0]) == len(rows)
    tp53 = next(r for r in rows if r["symbol"] == "TP53")
    gene = f"http://identifiers.org/ncbigene/{tp53['entrez_id']}"
    assert _ask(
        kg,
        "ASK { ?g a igkg:Gene ; rdfs:label ?symbol ; skos:exactMatch ?hgnc , ?ens }",
        g=kg_iri(gene), symbol="TP53",
        hgnc=kg_iri("http://identifiers.org/hgnc/" + tp53["hgnc_id"].split(":")[1]),
        ens=kg_iri("http://identifiers.org/ensembl/" + tp53["ensembl_gene_id"]),
    )
    aliases = set(_select(kg, "SELECT ?a WHERE { ?g skos:altLabel ?a }", g=kg_iri(gene))["a"])
    assert aliases == set(tp53["alias_symbol"].split("|")) | set(filter(None, tp53["prev_symbol"].split("|")))
    with_prev = next(r for r in rows if r["prev_symbol"])
    prev = with_prev["prev_symbol"].split("|")[0]
    assert _ask(kg, "ASK { ?g igkg:previousSymbol ?p ; rdfs:label ?s }", p=prev, s=with_prev["symbol"])


def test_resolver_from_store_reports_shared_aliases(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / HGNC_SAMPLE
    rows = _hgnc_rows(path)
    kg.load(path, kind="hgnc")
    resolver = kg.lookups()["genes"]()
    holders: dict[str, set[str]] = {}
    for row in rows:
        for alias in filter(None, (row.get("alias_symbol") or "").split("|") + (row.get("prev_symbol") or "").split("|")):
            holders.setdefault(alias, set()).add(row["entrez_id"])
    shared = sorted(a for a, genes in holders.items() if len(genes) > 1)
    assert shared, "the sample has aliases shared by several genes"
    for alias in shared:
        result = resolver.resolve(alias)
        assert result.status == "ambiguous"
        assert {c.rsplit("/", 1)[1] for c in result.candidates} == holders[alias]
    tp53 = next(r for r in rows if r["symbol"] == "TP53")
    assert resolver.resolve("p53").gene.endswith("/" + tp53["entrez_id"])
    assert resolver.resolve(tp53["ensembl_gene_id"] + ".17").symbol == "TP53"
    assert resolver.resolve(tp53["hgnc_id"]).symbol == "TP53"


# ---------------------------------------------------------------------------- gene_info
def test_gene_info_keeps_one_taxon(kg: KnowledgeGraph, test_data: Path) -> None:
    report = kg.load(test_data / "gene_info/good/Homo_sapiens.gene_info")
    assert report.kind == "gene-info"
    assert report.records_read == 3
    genes = set(_select(kg, "SELECT ?s WHERE { ?g a igkg:Gene ; rdfs:label ?s }")["s"])
    assert genes == {"CHRM3", "TP53"}  # the mouse row (tax_id 10090) is left out
    resolver = kg.lookups()["genes"]()
    assert resolver.resolve("HM3").symbol == "CHRM3"
    assert resolver.resolve("HGNC:1952").gene.endswith("/1131")


# ---------------------------------------------------------------------------- Reactome
def test_reactome_folder_hierarchy_and_members(kg: KnowledgeGraph, shared_data: Path) -> None:
    folder = shared_data / "reactome"
    kg.load(shared_data / HGNC_SAMPLE, kind="hgnc")
    kg.load(folder, kind="reactome")
    names = pd.read_csv(folder / "ReactomePathways.txt", sep="\t", header=None, names=["id", "name", "species"])
    human = names[names["species"] == "Homo sapiens"]
    typed = set(_select(kg, "SELECT ?p WHERE { ?p a igkg:Pathway }")["p"])
    assert {f"http://identifiers.org/reactome/{i}" for i in human["id"]} <= typed
    assert not any("/R-MMU-" in p for p in typed)
    relations = pd.read_csv(folder / "ReactomePathwaysRelation.txt", sep="\t", header=None, names=["parent", "child"])
    pair = relations[relations["child"].isin(human["id"]) & relations["parent"].isin(human["id"])].iloc[0]
    assert _ask(kg, "ASK { ?c igkg:subPathwayOf ?p ; rdfs:label ?name }",
                c=kg_iri(f"http://identifiers.org/reactome/{pair['child']}"),
                p=kg_iri(f"http://identifiers.org/reactome/{pair['parent']}"),
                name=human.set_index("id").loc[pair["child"], "name"])
    with open(folder / "ReactomePathways.gmt", encoding="utf-8") as handle:
        line = next(cells for cells in (l.rstrip("\n").split("\t") for l in handle) if "TP53" in cells[2:])
    assert _ask(kg, "ASK { ?g rdfs:label 'TP53' ; igkg:memberOf ?p }", p=kg_iri(f"http://identifiers.org/reactome/{line[1]}"))


def test_reactome_unknown_species_is_an_error(kg: KnowledgeGraph, shared_data: Path) -> None:
    before = kg.stats().triples
    with pytest.raises(LoadError) as info:
        kg.load(shared_data / "reactome/ReactomePathways.txt", kind="reactome", species="Homo erectus")
    assert "Homo erectus" in str(info.value) and "ReactomePathways.txt" in str(info.value)
    assert "Mus musculus" in str(info.value)  # the known species are listed
    assert kg.stats().triples == before
    assert "Mus musculus" in SPECIES


def test_reactome_other_species(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / "reactome/ReactomePathways.txt", kind="reactome", species="Mus musculus")
    names = pd.read_csv(shared_data / "reactome/ReactomePathways.txt", sep="\t", header=None, names=["id", "name", "species"])
    count = _select(kg, "SELECT (COUNT(?p) AS ?n) WHERE { ?p a igkg:Pathway }")
    assert int(count["n"].iloc[0]) == int((names["species"] == "Mus musculus").sum())


# ---------------------------------------------------------------------------- GMT
def test_gmt_sets_members_and_standard_iris(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / HGNC_SAMPLE, kind="hgnc")
    hallmark = shared_data / "genesets/gseapy_h.all.v7.0.symbols.gmt"
    report = kg.load(hallmark)
    assert report.kind == "gmt" and report.records_read == 50
    lines = [l.rstrip("\n").split("\t") for l in hallmark.read_text().splitlines() if l.strip()]
    p53 = next(cells for cells in lines if cells[0] == "HALLMARK_P53_PATHWAY")
    assert "TP53" in p53[2:]
    assert _ask(kg, "ASK { ?s a igkg:GeneSet ; rdfs:label 'HALLMARK_P53_PATHWAY' . ?g rdfs:label 'TP53' ; igkg:memberOf ?s }")
    names = set()
    for row in _hgnc_rows(shared_data / HGNC_SAMPLE):
        names |= {row["symbol"].upper()} | {a.upper() for a in (row["alias_symbol"] + "|" + row["prev_symbol"]).split("|") if a}
    members = {m for cells in lines for m in cells[2:] if m}
    # every member HGNC does not name (as symbol, alias or previous symbol) is reported
    assert report.unmapped["gene"] == {m for m in members if m.upper() not in names}
    enrichr = shared_data / "genesets/gseapy_enrichr.GO_Biological_Process_2021.gmt"
    first = enrichr.read_text().split("\n", 1)[0].split("\t")[0]
    go_id = re.search(r"GO:(\d{7})", first).group(1)
    kg.load(enrichr)
    assert _ask(kg, "ASK { ?s a igkg:GeneSet ; rdfs:label ?name }", s=kg_iri(f"http://purl.obolibrary.org/obo/GO_{go_id}"), name=first)


# ---------------------------------------------------------------------------- OBO
def test_go_terms_is_a_and_part_of(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / "obo/oak_go-nucleus.obo"
    kg.load(path)
    stanzas = path.read_text().split("\n[")
    nucleus = next(s for s in stanzas if "\nid: GO:0005634\n" in s)
    name = re.search(r"^name: (.+)$", nucleus, re.M).group(1)
    parents = re.findall(r"^is_a: (\S+)", nucleus, re.M)
    assert _ask(kg, "ASK { ?t a owl:Class ; rdfs:label ?n ; oboInOwl:hasOBONamespace 'cellular_component' }",
                t=kg_iri("http://purl.obolibrary.org/obo/GO_0005634"), n=name)
    found = set(_select(kg, "SELECT ?p WHERE { ?t rdfs:subClassOf ?p FILTER(isIRI(?p)) }", t=kg_iri("http://purl.obolibrary.org/obo/GO_0005634"))["p"])
    assert found == {"http://purl.obolibrary.org/obo/" + p.replace(":", "_") for p in parents}
    part = next(s for s in stanzas if re.search(r"^relationship: part_of GO:", s, re.M))
    child = re.search(r"^id: (\S+)", part, re.M).group(1)
    whole = re.search(r"^relationship: part_of (GO:\d+)", part, re.M).group(1)
    assert _ask(kg, "ASK { ?c rdfs:subClassOf [ owl:onProperty obo:BFO_0000050 ; owl:someValuesFrom ?w ] }",
                c=kg_iri("http://purl.obolibrary.org/obo/" + child.replace(":", "_")),
                w=kg_iri("http://purl.obolibrary.org/obo/" + whole.replace(":", "_")))


def test_mondo_crosswalks_and_disease_type(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / "obo/oak_mondo-sample-mappings.obo"
    kg.load(path)
    stanza = next(s for s in path.read_text().split("[Term]") if "id: MONDO:0007032" in s)
    xrefs = re.findall(r"^xref: (MESH|UMLS|OMIM|DOID|NCIT|SCTID):(\S+)", stanza, re.M)
    assert ("MESH", "D011535") in xrefs and ("UMLS", "C0033770") in xrefs
    bases = {"MESH": "http://id.nlm.nih.gov/mesh/", "UMLS": "http://identifiers.org/umls/", "OMIM": "http://identifiers.org/mim/",
             "DOID": "http://purl.obolibrary.org/obo/DOID_", "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
             "SCTID": "http://identifiers.org/snomedct/"}
    matches = set(_select(kg, "SELECT ?m WHERE { ?d a igkg:Disease ; skos:exactMatch ?m }", d=kg_iri("http://purl.obolibrary.org/obo/MONDO_0007032"))["m"])
    assert matches == {bases[p] + local for p, local in xrefs}


def test_hpo_obsolete_terms_flagged(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / "obo/scout_reduced.hpo.obo"
    report = kg.load(path)
    text = path.read_text()
    assert report.records_read == text.count("\n[Term]")
    obsolete = _select(kg, "SELECT (COUNT(?t) AS ?n) WHERE { ?t owl:deprecated true }")
    assert int(obsolete["n"].iloc[0]) == text.count("is_obsolete: true")
    assert not _ask(kg, "ASK { ?t a igkg:Disease }")  # HPO terms are phenotypes


# ---------------------------------------------------------------------------- GAF
def test_gaf_annotations_and_obsolete_ids(kg: KnowledgeGraph, shared_data: Path, test_data: Path) -> None:
    report = kg.load(test_data / "gaf/good/oak_test-uniprot.gaf")
    rows = pd.read_csv(test_data / "gaf/good/oak_test-uniprot.gaf", sep="\t", header=None, comment="!", dtype=str)
    assert report.records_read == len(rows) == 232
    count = _select(kg, "SELECT (COUNT(?a) AS ?n) WHERE { ?a a igkg:GeneAnnotation }")
    assert int(count["n"].iloc[0]) == len(rows.drop_duplicates(subset=list(range(16))))
    first = rows.iloc[0]
    assert _ask(kg, "ASK { ?a igkg:geneProduct ?p ; igkg:term ?t ; igkg:evidence ?e }",
                p=kg_iri(f"http://identifiers.org/uniprot/{first[1]}"),
                t=kg_iri("http://purl.obolibrary.org/obo/" + first[4].replace(":", "_")), e=first[6])
    kg.load(test_data / "obo/good/go_obsolete_excerpt.obo")
    kg.load(shared_data / HGNC_SAMPLE, kind="hgnc")
    bad = kg.load(test_data / "gaf/partial/obsolete_go_id.gaf")
    assert [(r.line, "GO:0005625" in r.reason) for r in bad.rejected] == [(3, True)]
    assert _ask(kg, "ASK { ?g rdfs:label 'TP53' ; igkg:annotatedWith GO:0005634 }")
    assert not _ask(kg, "ASK { ?a igkg:term GO:0005625 }")


# ---------------------------------------------------------------------------- MeSH
def test_mesh_xml_tree_numbers_and_broader(kg: KnowledgeGraph, shared_data: Path) -> None:
    path = shared_data / "mesh/desc-samples.xml"
    report = kg.load(path, kind="mesh-xml", year=2016)
    root = ET.parse(path).getroot()
    records = {r.findtext("DescriptorUI"): r for r in root.iter("DescriptorRecord")}
    assert report.records_read == len(records)
    neoplasms = records["D009369"]
    trees = {t.text for t in neoplasms.iter("TreeNumber")}
    found = set(_select(kg, "SELECT ?n WHERE { mesh:D009369 meshv:treeNumber/rdfs:label ?n }")["n"])
    assert found == trees
    owners = {t.text: ui for ui, r in records.items() for t in r.iter("TreeNumber")}
    child, parent = next(
        (ui, owners[t.text.rsplit(".", 1)[0]]) for ui, r in records.items() for t in r.iter("TreeNumber")
        if "." in t.text and t.text.rsplit(".", 1)[0] in owners
    )
    assert _ask(kg, "ASK { ?c meshv:broaderDescriptor ?p ; skos:broader ?p }",
                c=kg_iri(f"http://id.nlm.nih.gov/mesh/{child}"), p=kg_iri(f"http://id.nlm.nih.gov/mesh/{parent}"))
    assert _ask(kg, "ASK { mesh:D009369 a igkg:Disease ; skos:prefLabel ?l }", l=kg_literal(neoplasms.findtext("DescriptorName/String"), "en"))
    versions = _select(kg, "SELECT ?v WHERE { GRAPH ?c { ?g igkg:sourceVersion ?v } }")
    assert list(versions["v"]) == ["MeSH 2016"]


def test_mesh_rdf_meets_mesh_xml(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / "mesh/samples.nt", kind="mesh-rdf", year=2016)
    label = next(l for l in (shared_data / "mesh/samples.nt").read_text().splitlines()
                 if l.startswith("<http://id.nlm.nih.gov/mesh/D009369> <http://www.w3.org/2000/01/rdf-schema#label>"))
    name = re.search(r'"(.+)"@en', label).group(1)
    assert _ask(kg, "ASK { mesh:D009369 skos:prefLabel ?l ; meshv:treeNumber mesh:C04 ; a igkg:Disease }", l=kg_literal(name, "en"))
    kg.load(shared_data / "mesh/desc-samples.xml", kind="mesh-xml", year=2016)
    graphs = _select(kg, "SELECT DISTINCT ?g WHERE { GRAPH ?g { mesh:D009369 skos:prefLabel ?l } }")
    assert len(graphs) == 2  # both loaders put the same shape on the same node


# ---------------------------------------------------------------------------- UMLS
def test_umls_concepts_types_and_crosswalks(kg: KnowledgeGraph, shared_data: Path) -> None:
    folder = shared_data / "umls/umls_META"
    kg.load(folder, kind="umls")
    conso = pd.read_csv(folder / "MRCONSO.RRF", sep="|", header=None, dtype=str, keep_default_na=False)
    msh = conso[conso[11] == "MSH"]
    for cui, code in zip(msh[0], msh[13], strict=True):
        assert _ask(kg, "ASK { ?c a igkg:Concept ; skos:exactMatch ?m }",
                    c=kg_iri(f"http://identifiers.org/umls/{cui}"), m=kg_iri(f"http://id.nlm.nih.gov/mesh/{code}"))
    sty = pd.read_csv(folder / "MRSTY.RRF", sep="|", header=None, dtype=str)
    for cui, tui, name in zip(sty[0], sty[1], sty[3], strict=True):
        assert _ask(kg, "ASK { ?c igkg:semanticType ?t . ?t rdfs:label ?n }",
                    c=kg_iri(f"http://identifiers.org/umls/{cui}"), t=kg_iri(f"http://identifiers.org/umls.sty/{tui}"), n=name)


def test_umls_hierarchy_from_mrrel(kg: KnowledgeGraph, shared_data: Path) -> None:
    folder = shared_data / "umls/wci_SAMPLE_HIER_2016AA"
    kg.load(folder, kind="umls")
    conso = pd.read_csv(folder / "MRCONSO.RRF", sep="|", header=None, dtype=str, keep_default_na=False)
    count = _select(kg, "SELECT (COUNT(?c) AS ?n) WHERE { ?c a igkg:Concept }")
    assert int(count["n"].iloc[0]) == conso[0].nunique()
    rel = pd.read_csv(folder / "MRREL.RRF", sep="|", header=None, dtype=str, keep_default_na=False)
    par = rel[(rel[3] == "PAR") & (rel[0] != rel[4])].iloc[0]
    assert _ask(kg, "ASK { ?c skos:broader ?p }", c=kg_iri(f"http://identifiers.org/umls/{par[0]}"), p=kg_iri(f"http://identifiers.org/umls/{par[4]}"))


# ---------------------------------------------------------------------------- gene-disease
def test_clinvar_gene_disease_links(kg: KnowledgeGraph, test_data: Path) -> None:
    path = test_data / "gene_disease/good/gene_condition_source_id"
    report = kg.load(path)
    assert report.kind == "gene-disease"
    rows = pd.read_csv(path, sep="\t", dtype=str)
    assert report.records_read == len(rows)
    for _, row in rows.iterrows():
        gene = kg_iri(f"http://identifiers.org/ncbigene/{row['#GeneID']}")
        disease = kg_iri(f"http://identifiers.org/umls/{row['ConceptID']}")
        assert _ask(kg, """ASK { ?a a igkg:GeneDiseaseAssociation ; igkg:gene ?g ; igkg:disease ?d ;
                                  igkg:evidence ?e ; dct:source ?s .
                              ?g igkg:associatedWithDisease ?d . ?d a igkg:Disease ; rdfs:label ?n ;
                              skos:exactMatch ?mim }""",
                    g=gene, d=disease, n=row["DiseaseName"], mim=kg_iri(f"http://identifiers.org/mim/{row['DiseaseMIM']}"))


# ---------------------------------------------------------------------------- the walk
WALK = """
SELECT ?gene ?symbol ?pathway ?disease ?mesh ?cui WHERE {
  ?gene a igkg:Gene ; skos:altLabel ?alias ; rdfs:label ?symbol ;
        igkg:memberOf ?pathway ; igkg:associatedWithDisease ?disease .
  ?pathway a igkg:Pathway .
  ?term skos:exactMatch ?disease .
  ?term skos:exactMatch ?mesh . FILTER(STRSTARTS(STR(?mesh), "http://id.nlm.nih.gov/mesh/D"))
  ?term skos:exactMatch ?cui . FILTER(STRSTARTS(STR(?cui), "http://identifiers.org/umls/C"))
}"""


def test_walk_alias_gene_pathway_disease_mesh_umls(kg: KnowledgeGraph, shared_data: Path, test_data: Path) -> None:
    kg.load(test_data / "gene_info/good/Homo_sapiens.gene_info")  # CHRM3, alias HM3
    kg.load(shared_data / "reactome/ReactomePathways.gmt")
    kg.load(shared_data / "obo/oak_mondo-sample-mappings.obo")
    kg.load(test_data / "gene_disease/good/gene_condition_source_id")
    found = _select(kg, WALK, alias="HM3")
    assert set(found["symbol"]) == {"CHRM3"}
    gmt = [l.split("\t") for l in (shared_data / "reactome/ReactomePathways.gmt").read_text().splitlines()]
    assert set(found["pathway"]) == {f"http://identifiers.org/reactome/{c[1]}" for c in gmt if "CHRM3" in c[2:]}
    assert set(found["mesh"]) == {"http://id.nlm.nih.gov/mesh/D011535"}
    assert set(found["disease"]) == {"http://identifiers.org/umls/C0033770"}  # the ClinVar ConceptID
    stanza = next(s for s in (shared_data / "obo/oak_mondo-sample-mappings.obo").read_text().split("[Term]") if "UMLS:C0033770" in s)
    assert set(found["cui"]) == {"http://identifiers.org/umls/" + c for c in re.findall(r"^xref: UMLS:(C\d+)", stanza, re.M)}


# ---------------------------------------------------------------------------- bad files
def kg_iri(text: str):  # noqa: ANN201 - an rdflib URIRef
    from rdflib import URIRef

    return URIRef(text)


def kg_literal(text: str, lang: str):  # noqa: ANN201 - an rdflib Literal
    from rdflib import Literal

    return Literal(text, lang=lang)
