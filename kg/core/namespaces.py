"""The one prefix map of igkg: every namespace, CURIE prefix and IRI base lives here.

Other modules import the rdflib ``Namespace`` objects below and ``CONVERTER`` (a
``curies.Converter``) to expand or compress CURIEs; nobody writes an IRI base by hand.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

if TYPE_CHECKING:
    import curies

__all__ = [
    "BIOLINK",
    "CATALOG_GRAPH",
    "CONVERTER",  # noqa: F822 - built on first use by the module __getattr__
    "DCAT",
    "DCT",
    "DOI",
    "DOID",
    "ENSEMBL",
    "GO",
    "GRAPH_BASE",
    "HGNC",
    "HP",
    "IGKG",
    "MEDGEN",
    "MESH",
    "MESHV",
    "MONDO",
    "NCBIGENE",
    "NCIT",
    "OBO",
    "OBOINOWL",
    "OMIM",
    "ORPHANET",
    "OWL",
    "PREFIXES",
    "PROV",
    "PUBMED",
    "RADO",
    "RDF",
    "RDFS",
    "REACTOME",
    "RO",
    "SCHEMA",
    "SD",
    "SIO",
    "SKOS",
    "SNOMEDCT",
    "STATO",
    "UBERON",
    "UMLS",
    "UMLS_STY",
    "UNIPROT",
    "VOID",
    "XSD",
    "compress",
    "expand",
]

IGKG: Final = Namespace("https://w3id.org/igkg/")
"""Our ontology (classes and properties); instances are minted by ``kg.core.iris``."""
GRAPH_BASE: Final = "https://w3id.org/igkg/graph/"
"""Named graphs of loaded sources live under this base."""
CATALOG_GRAPH: Final = GRAPH_BASE + "catalog"
"""The named graph holding one provenance record per loaded source version."""

MESH: Final = Namespace("http://id.nlm.nih.gov/mesh/")
MESHV: Final = Namespace("http://id.nlm.nih.gov/mesh/vocab#")
UMLS: Final = Namespace("http://identifiers.org/umls/")
UMLS_STY: Final = Namespace("http://identifiers.org/umls.sty/")
NCBIGENE: Final = Namespace("http://identifiers.org/ncbigene/")
HGNC: Final = Namespace("http://identifiers.org/hgnc/")
ENSEMBL: Final = Namespace("http://identifiers.org/ensembl/")
REACTOME: Final = Namespace("http://identifiers.org/reactome/")
OMIM: Final = Namespace("http://identifiers.org/mim/")
MEDGEN: Final = Namespace("http://identifiers.org/medgen/")
ORPHANET: Final = Namespace("http://identifiers.org/orphanet/")
SNOMEDCT: Final = Namespace("http://identifiers.org/snomedct/")
UNIPROT: Final = Namespace("http://identifiers.org/uniprot/")
OBO: Final = Namespace("http://purl.obolibrary.org/obo/")
GO: Final = Namespace("http://purl.obolibrary.org/obo/GO_")
DOID: Final = Namespace("http://purl.obolibrary.org/obo/DOID_")
MONDO: Final = Namespace("http://purl.obolibrary.org/obo/MONDO_")
NCIT: Final = Namespace("http://purl.obolibrary.org/obo/NCIT_")
HP: Final = Namespace("http://purl.obolibrary.org/obo/HP_")
RO: Final = Namespace("http://purl.obolibrary.org/obo/RO_")
STATO: Final = Namespace("http://purl.obolibrary.org/obo/STATO_")
UBERON: Final = Namespace("http://purl.obolibrary.org/obo/UBERON_")
OBOINOWL: Final = Namespace("http://www.geneontology.org/formats/oboInOwl#")
RADO: Final = Namespace("http://www.radiomics.org/RO/")
SIO: Final = Namespace("http://semanticscience.org/resource/SIO_")
BIOLINK: Final = Namespace("https://w3id.org/biolink/vocab/")
SCHEMA: Final = Namespace("http://schema.org/")
DOI: Final = Namespace("https://doi.org/")
PUBMED: Final = Namespace("http://identifiers.org/pubmed/")
SD: Final = Namespace("http://www.w3.org/ns/sparql-service-description#")
DCT: Final = DCTERMS

PREFIXES: Final[dict[str, str]] = {
    "igkg": str(IGKG),
    "mesh": str(MESH),
    "meshv": str(MESHV),
    "umls": str(UMLS),
    "sty": str(UMLS_STY),
    "ncbigene": str(NCBIGENE),
    "hgnc": str(HGNC),
    "ensembl": str(ENSEMBL),
    "reactome": str(REACTOME),
    "omim": str(OMIM),
    "medgen": str(MEDGEN),
    "orphanet": str(ORPHANET),
    "snomedct": str(SNOMEDCT),
    "uniprot": str(UNIPROT),
    "obo": str(OBO),
    "GO": str(GO),
    "DOID": str(DOID),
    "MONDO": str(MONDO),
    "NCIT": str(NCIT),
    "HP": str(HP),
    "RO": str(RO),
    "STATO": str(STATO),
    "UBERON": str(UBERON),
    "oboInOwl": str(OBOINOWL),
    "rado": str(RADO),
    "sio": str(SIO),
    "biolink": str(BIOLINK),
    "schema": str(SCHEMA),
    "doi": str(DOI),
    "pubmed": str(PUBMED),
    "prov": str(PROV),
    "dct": str(DCTERMS),
    "dcat": str(DCAT),
    "skos": str(SKOS),
    "void": str(VOID),
    "sd": str(SD),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
}
"""prefix -> IRI base, the single table every serialiser, query and CLI uses."""

# Synonyms accepted on input (CURIEs as written by HGNC, MONDO xrefs, UMLS SABs ...).
_SYNONYMS: Final[dict[str, list[str]]] = {
    "mesh": ["MESH", "MeSH", "MSH"],
    "umls": ["UMLS", "UMLS_CUI"],
    "ncbigene": ["NCBIGene", "NCBIGENE", "EntrezGene", "Entrez", "GeneID"],
    "hgnc": ["HGNC"],
    "ensembl": ["ENSEMBL", "Ensembl"],
    "reactome": ["REACT", "Reactome", "REACTOME"],
    "omim": ["OMIM", "MIM", "mim"],
    "medgen": ["MedGen", "MEDGEN"],
    "orphanet": ["ORPHA", "Orphanet", "ORPHANET", "ORDO"],
    "snomedct": ["SNOMEDCT", "SNOMEDCT_US", "SCTID", "SNOMED"],
    "uniprot": ["UniProtKB", "UNIPROTKB", "UniProt"],
    "NCIT": ["NCI", "ncit", "NCIt", "NCI_Thesaurus"],
    "GO": ["go"],
    "DOID": ["doid"],
    "MONDO": ["mondo"],
    "HP": ["HPO", "hp"],
    "doi": ["DOI"],
    "pubmed": ["PMID", "PubMed", "PUBMED"],
}


@cache
def _build_converter() -> curies.Converter:
    import curies  # here: importing curies (pydantic) is a tenth of a second of every command's start-up

    records = [
        curies.Record(prefix=p, uri_prefix=uri, prefix_synonyms=_SYNONYMS.get(p, []))
        for p, uri in PREFIXES.items()
    ]
    return curies.Converter(records)




def __getattr__(name: str) -> Any:
    """``CONVERTER``: the curies converter over ``PREFIXES`` (with synonyms), built on first use;
    use ``expand``/``compress``."""
    if name == "CONVERTER":
        return _build_converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def expand(curie: str) -> str | None:
    """Expand a CURIE such as ``MESH:D009369`` to its IRI, or ``None`` if the prefix is unknown.

    >>> expand("MESH:D009369")
    'http://id.nlm.nih.gov/mesh/D009369'
    >>> expand("HGNC:3236")
    'http://identifiers.org/hgnc/3236'
    """
    prefix, sep, local = curie.partition(":")
    if not sep:
        return None
    # HGNC ids are "HGNC:3236" and identifiers.org wants the local part only.
    return _build_converter().expand(f"{prefix}:{local}") if prefix else None


def compress(iri: str) -> str:
    """Compress an IRI to a CURIE when a prefix matches, else return it unchanged.

    >>> compress("http://identifiers.org/ncbigene/1956")
    'ncbigene:1956'
    """
    return _build_converter().compress(iri) or iri

