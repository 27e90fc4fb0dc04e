"""GWAS Catalog and GWAS-SSF loaders: every fact read off the files with csv is found by SPARQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import URIRef

from kg import KnowledgeGraph
from loaders._variants import is_imaging_trait

DATA = Path(__file__).resolve().parents[1] / "data"
CATALOG = DATA / "gwas_catalog" / "good" / "gwas_catalog_v1.0.2-associations_e113_r2025-01-30.tsv"
GENES = DATA / "gwas_catalog" / "genes" / "Homo_sapiens.gene_info"
SSF = DATA / "gwas_ssf" / "good" / "GCST90002426.tsv"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _entrez() -> dict[str, str]:
    return {row["Symbol"]: row["GeneID"] for row in _rows(GENES)}


@pytest.fixture
def catalog_kg(kg: KnowledgeGraph) -> KnowledgeGraph:
    kg.load(GENES, kind="gene-info")
    report = kg.load(CATALOG)
    assert report.kind == "gwas-catalog"  # inferred from the catalog's own file name
    return kg


def test_catalog_rows_become_variant_trait_associations_with_pubmed_provenance(catalog_kg: KnowledgeGraph) -> None:
    rows = [r for r in _rows(CATALOG) if r["SNPS"].startswith("rs") and " x " not in r["SNPS"]]
    found = catalog_kg.query("""
        SELECT ?v ?t ?p ?src WHERE { ?a a igkg:VariantTraitAssociation ; igkg:variant ?v ; igkg:trait ?t ;
                                        igkg:pValue ?p ; dct:source ?src }""")
    expected = {("http://identifiers.org/dbsnp/" + r["SNPS"], uri.strip(), float(r["P-VALUE"]),
                 "http://identifiers.org/pubmed/" + r["PUBMEDID"])
                for r in rows for uri in r["MAPPED_TRAIT_URI"].split(",")}
    assert set(zip(found["v"], found["t"], found["p"].astype(float), found["src"], strict=True)) == expected


def test_imaging_traits_are_radiogenomic_associations_and_others_are_not(catalog_kg: KnowledgeGraph) -> None:
    rows = [r for r in _rows(CATALOG) if r["SNPS"].startswith("rs") and " x " not in r["SNPS"]]
    labels = {}
    for r in rows:
        uris = [u.strip() for u in r["MAPPED_TRAIT_URI"].split(",")]
        names = r["MAPPED_TRAIT"].split(", ") if len(uris) > 1 else [r["MAPPED_TRAIT"]]
        labels.update(zip(uris, names, strict=True))
    imaging = {uri for uri, label in labels.items() if is_imaging_trait(label)}
    assert imaging and imaging != set(labels)  # the file has both kinds
    found = catalog_kg.query("SELECT DISTINCT ?t WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:feature ?t ; igkg:target ?v . ?v a igkg:Variant }")
    assert set(found["t"]) == imaging
    typed = catalog_kg.query("SELECT ?t WHERE { ?t a igkg:ImagingPhenotype }")
    assert set(typed["t"]) == imaging
    alzheimer = URIRef("http://www.ebi.ac.uk/efo/EFO_1001870")
    assert not catalog_kg.query("ASK { ?a igkg:feature ?t }", {"t": alzheimer})


def test_mapped_genes_link_the_variant_and_the_association(catalog_kg: KnowledgeGraph) -> None:
    entrez = _entrez()
    expected = set()
    for r in _rows(CATALOG):
        if not r["SNPS"].startswith("rs") or " x " in r["SNPS"]:
            continue
        for symbol in r["MAPPED_GENE"].replace(" - ", ",").split(","):
            if symbol.strip() in entrez:
                expected.add(("http://identifiers.org/dbsnp/" + r["SNPS"], "http://identifiers.org/ncbigene/" + entrez[symbol.strip()]))
    found = catalog_kg.query("SELECT ?v ?g WHERE { ?v igkg:nearGene ?g . ?a igkg:variant ?v ; igkg:gene ?g }")
    assert set(zip(found["v"], found["g"], strict=True)) == expected
    assert ("http://identifiers.org/dbsnp/rs2075650", "http://identifiers.org/ncbigene/10452") in expected  # TOMM40 - APOE


def test_rejected_rows_and_signed_betas(catalog_kg: KnowledgeGraph) -> None:
    report = catalog_kg.load(CATALOG)
    assert report.skipped
    rows = _rows(CATALOG)
    hrk = next(r for r in rows if r["SNPS"] == "rs77956314")
    assert "decrease" in hrk["95% CI (TEXT)"]
    beta = catalog_kg.query("SELECT ?e ?al WHERE { ?a igkg:variant ?v ; igkg:effectSize ?e ; igkg:effectAllele ?al }",
                            {"v": URIRef("http://identifiers.org/dbsnp/rs77956314")})
    assert float(beta["e"].iloc[0]) == -float(hrk["OR or BETA"])
    assert beta["al"].iloc[0] == hrk["STRONGEST SNP-RISK ALLELE"].split("-")[1]
    n_rejected = sum(1 for r in rows if not r["SNPS"].startswith("rs") or " x " in r["SNPS"])
    assert n_rejected == 2
    with KnowledgeGraph(None) as fresh:
        first = fresh.load(CATALOG)
    assert len(first.rejected) == n_rejected and first.records_read == len(rows)
    assert {r.field for r in first.rejected} == {"SNPS"}


def test_ssf_hits_below_p_max_with_beta_se_and_build(kg: KnowledgeGraph) -> None:
    report = kg.load(SSF)
    assert report.kind == "gwas-ssf"
    rows = _rows(SSF)
    hits = [r for r in rows if float(r["p_value"]) <= 5e-8]
    assert 0 < len(hits) < len(rows)
    found = kg.query("""SELECT ?p ?b ?se ?eaf ?build WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:pValue ?p ;
                          igkg:effectSize ?b ; igkg:standardError ?se ; igkg:effectAlleleFrequency ?eaf ; igkg:target ?v .
                          ?v igkg:genomeBuild ?build }""")
    assert sorted(zip(found["p"].astype(float), found["b"].astype(float), found["se"].astype(float), found["eaf"].astype(float),
                      strict=True)) == sorted((float(r["p_value"]), float(r["beta"]), float(r["standard_error"]),
                                               float(r["effect_allele_frequency"])) for r in hits)
    assert set(found["build"]) == {"GRCh37"}


def test_ssf_p_max_option_loads_every_row(kg: KnowledgeGraph) -> None:
    kg.load(SSF, p_max=1.0)
    n = kg.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a igkg:VariantTraitAssociation }")
    assert int(n["n"].iloc[0]) == len(_rows(SSF))
