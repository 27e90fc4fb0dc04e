"""The gene resolver: symbols, aliases, previous symbols and ids to one canonical gene."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from loaders._genes import GeneRecord, GeneResolver, ensembl_iri, gene_iri, hgnc_iri

NCBI = "http://identifiers.org/ncbigene/"

# Two genes that share an alias, as HGNC records them (HGNC:3236 EGFR and HGNC:3430 ERBB2
# both list no shared alias in reality; the shared alias here is written for the test).
EGFR = GeneRecord(ncbi_id="1956", hgnc_id="HGNC:3236", symbol="EGFR", name="epidermal growth factor receptor",
                  aliases=("ERBB", "HER1", "SHARED1"), previous_symbols=("ERBB1",), ensembl_id="ENSG00000146648")
ERBB2 = GeneRecord(ncbi_id="2064", hgnc_id="HGNC:3430", symbol="ERBB2", aliases=("HER2", "NEU", "SHARED1"),
                   previous_symbols=("NGL",), ensembl_id="ENSG00000141736")
# An approved symbol that is another gene's alias: the approved symbol wins.
HER2GENE = GeneRecord(ncbi_id="999999", hgnc_id="HGNC:99999", symbol="NEU")
GONE = GeneRecord(ncbi_id=None, hgnc_id="HGNC:12345", symbol="OLDGENE", status="Entry Withdrawn")


@pytest.fixture
def resolver() -> GeneResolver:
    return GeneResolver([EGFR, ERBB2, HER2GENE, GONE])


@pytest.mark.parametrize(
    ("query", "matched_by"),
    [
        ("EGFR", "symbol"),
        ("egfr", "symbol"),
        ("ERBB", "alias"),
        ("HER1", "alias"),
        ("ERBB1", "previous"),
        ("HGNC:3236", "hgnc"),
        ("1956", "entrez"),
        ("NCBIGene:1956", "entrez"),
        ("ENSG00000146648", "ensembl"),
        ("ENSG00000146648.15", "ensembl"),
    ],
)
def test_every_identifier_kind_resolves_to_the_ncbi_gene(resolver: GeneResolver, query: str, matched_by: str) -> None:
    result = resolver.resolve(query)
    assert result.status == "ok"
    assert result.gene == URIRef(NCBI + "1956")
    assert result.matched_by == matched_by
    assert result.symbol == "EGFR"


def test_shared_alias_is_ambiguous_with_candidates(resolver: GeneResolver) -> None:
    result = resolver.resolve("SHARED1")
    assert result.status == "ambiguous"
    assert result.gene is None
    assert set(result.candidates) == {URIRef(NCBI + "1956"), URIRef(NCBI + "2064")}


def test_approved_symbol_beats_alias(resolver: GeneResolver) -> None:
    result = resolver.resolve("NEU")
    assert (result.status, result.gene, result.matched_by) == ("ok", URIRef(NCBI + "999999"), "symbol")


def test_withdrawn_and_unknown(resolver: GeneResolver) -> None:
    assert resolver.resolve("OLDGENE").status == "withdrawn"
    assert resolver.resolve("OLDGENE").gene is None
    assert resolver.resolve("KRAS").status == "unmapped"
    assert resolver.resolve("").status == "unmapped"
    assert resolver.resolve("HGNC:1").status == "unmapped"


def test_bare_number_matching_two_namespaces_is_ambiguous() -> None:
    a = GeneRecord(ncbi_id="5", hgnc_id="HGNC:100", symbol="A")
    b = GeneRecord(ncbi_id="100", hgnc_id="HGNC:7", symbol="B")
    resolver = GeneResolver([a, b])
    assert resolver.resolve("100").status == "ambiguous"
    assert resolver.resolve("100", "entrez").gene == gene_iri(100)
    assert resolver.resolve("100", "hgnc").gene == gene_iri(5)


def test_iri_helpers() -> None:
    assert gene_iri("1956") == URIRef(NCBI + "1956")
    assert hgnc_iri("HGNC:3236") == hgnc_iri("3236") == URIRef("http://identifiers.org/hgnc/3236")
    assert ensembl_iri("ENSG00000146648.15") == URIRef("http://identifiers.org/ensembl/ENSG00000146648")
    with pytest.raises(ValueError):
        gene_iri("EGFR")
