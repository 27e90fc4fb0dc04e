"""Read-only helpers built from what the store holds, offered to loaders by name.

``KnowledgeGraph.load`` passes these to each load's ``LoadContext``; a loader asks
``context.lookup("genes")`` and gets a ``GeneResolver`` over the genes already loaded
(``hgnc`` / ``gene-info``); ``context.lookup("ontology-terms")`` gives the ``OntologyTerms``
(classes, obsolete classes and their replacements) already loaded by ``obo``. Each is built
lazily, once per load. The SPARQL lives here, so loaders never query a store.

>>> from kg.store import KnowledgeGraph
>>> len(gene_resolver(KnowledgeGraph(None)))
0
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kg.core.namespaces import ENSEMBL, HGNC, IGKG, NCBIGENE, OBO, OWL, RDFS, SKOS
from loaders import GeneRecord, GeneResolver

__all__ = ["LOOKUPS", "LOOKUP_DIGESTS", "OntologyTerms", "gene_records", "gene_resolver", "ontology_terms"]

logger = logging.getLogger(__name__)

_SEP = "\u001f"

_GENES_QUERY = f"""
SELECT ?gene (SAMPLE(?label) AS ?symbol)
       (GROUP_CONCAT(DISTINCT ?label; separator="{_SEP}") AS ?labels)
       (GROUP_CONCAT(DISTINCT ?alt; separator="{_SEP}") AS ?alts)
       (GROUP_CONCAT(DISTINCT ?prev; separator="{_SEP}") AS ?prevs)
       (GROUP_CONCAT(DISTINCT STR(?match); separator="{_SEP}") AS ?matches)
       (SAMPLE(?status) AS ?nomenclature)
WHERE {{
  ?gene a <{IGKG.Gene}> .
  OPTIONAL {{ ?gene <{RDFS.label}> ?label }}
  OPTIONAL {{ ?gene <{SKOS.altLabel}> ?alt }}
  OPTIONAL {{ ?gene <{IGKG.previousSymbol}> ?prev }}
  OPTIONAL {{ ?gene <{SKOS.exactMatch}> ?match
              FILTER(STRSTARTS(STR(?match), "{HGNC}") || STRSTARTS(STR(?match), "{ENSEMBL}")) }}
  OPTIONAL {{ ?gene <{IGKG.nomenclatureStatus}> ?status }}
}} GROUP BY ?gene"""


def _split(term: Any) -> list[str]:
    if term is None or not term.value:
        return []
    return [part for part in term.value.split(_SEP) if part]


def gene_records(kg: Any) -> list[GeneRecord]:
    """The ``igkg:Gene`` nodes a ``KnowledgeGraph`` holds, as ``GeneRecord`` objects.

    Reads the label (approved symbol), ``skos:altLabel`` (aliases), ``igkg:previousSymbol``,
    ``igkg:nomenclatureStatus`` and the HGNC / Ensembl ``skos:exactMatch`` of each gene, as
    the ``hgnc`` and ``gene-info`` loaders write them.

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> kg.update('''INSERT DATA { GRAPH <urn:example:genes> {
    ...   <http://identifiers.org/ncbigene/7157> a igkg:Gene ; rdfs:label "TP53" ; skos:altLabel "p53" } }''')
    >>> [(record.symbol, record.aliases) for record in gene_records(kg)]
    [('TP53', ('p53',))]
    """
    records = []
    for row in kg.raw_query(_GENES_QUERY):
        iri = row["gene"].value
        labels = sorted(_split(row["labels"]))
        prevs = tuple(sorted(_split(row["prevs"])))
        symbol = labels[0] if labels else ""
        aliases = tuple(sorted((set(_split(row["alts"])) | set(labels[1:])) - set(prevs) - {symbol}))
        matches = _split(row["matches"])
        hgnc = next((m[len(str(HGNC)):] for m in matches if m.startswith(str(HGNC))), None)
        ensembl = next((m[len(str(ENSEMBL)):] for m in matches if m.startswith(str(ENSEMBL))), None)
        ncbi = iri[len(str(NCBIGENE)):] if iri.startswith(str(NCBIGENE)) else None
        if ncbi is None and iri.startswith(str(HGNC)):
            hgnc = hgnc or iri[len(str(HGNC)):]
        status = row["nomenclature"].value if row["nomenclature"] is not None else "Approved"
        records.append(
            GeneRecord(ncbi_id=ncbi, hgnc_id=hgnc, symbol=symbol, status=status,
                       aliases=aliases, previous_symbols=prevs, ensembl_id=ensembl)
        )
    return records


def gene_resolver(kg: Any) -> GeneResolver:
    """A ``GeneResolver`` over the genes the store holds (the lookup ``"genes"``).

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> kg.update('''INSERT DATA { GRAPH <urn:example:genes> {
    ...   <http://identifiers.org/ncbigene/7157> a igkg:Gene ; rdfs:label "TP53" ; skos:altLabel "p53" } }''')
    >>> resolution = gene_resolver(kg).resolve("p53")
    >>> resolution.symbol, resolution.matched_by
    ('TP53', 'alias')
    """
    records = gene_records(kg)
    logger.info("gene resolver built from the store: %d genes", len(records))
    return GeneResolver(records)


@dataclass(frozen=True)
class OntologyTerms:
    """The OBO classes a store holds: which exist, which are obsolete, and their replacements.

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> kg.update('''INSERT DATA { GRAPH <urn:example:go> { obo:GO_0005634 a owl:Class .
    ...   obo:GO_0005625 a owl:Class ; owl:deprecated true } }''')
    >>> sorted(ontology_terms(kg).obsolete)
    ['http://purl.obolibrary.org/obo/GO_0005625']
    """

    classes: frozenset[str] = frozenset()
    obsolete: frozenset[str] = frozenset()
    replaced_by: dict[str, str] = field(default_factory=dict)

    def has_prefix(self, iri_prefix: str) -> bool:
        """True when any class of that IRI prefix (e.g. the GO PURL base) is loaded.

        >>> terms = OntologyTerms(classes=frozenset({"http://purl.obolibrary.org/obo/GO_0005634"}))
        >>> terms.has_prefix("http://purl.obolibrary.org/obo/GO_"), terms.has_prefix("http://purl.obolibrary.org/obo/HP_")
        (True, False)
        """
        return any(c.startswith(iri_prefix) for c in self.classes)


def ontology_terms(kg: Any, iri_prefix: str = str(OBO)) -> OntologyTerms:
    """Collect the ``owl:Class`` nodes under ``iri_prefix`` and their deprecation from the store.

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> kg.update('''INSERT DATA { GRAPH <urn:example:go> { obo:GO_0005634 a owl:Class .
    ...   obo:GO_0005625 a owl:Class ; owl:deprecated true } }''')
    >>> len(ontology_terms(kg).classes)
    2
    """
    rows = kg.raw_query(
        f"""SELECT ?c ?dep ?new WHERE {{
          ?c a <{OWL.Class}> . FILTER(STRSTARTS(STR(?c), "{iri_prefix}"))
          OPTIONAL {{ ?c <{OWL.deprecated}> ?dep }}
          OPTIONAL {{ ?c <{OBO.IAO_0100001}> ?new }}
        }}"""
    )
    classes, obsolete, replaced = set(), set(), {}
    for row in rows:
        iri = row["c"].value
        classes.add(iri)
        if row["dep"] is not None and row["dep"].value in ("true", "1"):
            obsolete.add(iri)
        if row["new"] is not None:
            replaced[iri] = row["new"].value
    return OntologyTerms(frozenset(classes), frozenset(obsolete), replaced)


LOOKUPS: dict[str, Callable[[Any], Any]] = {
    "genes": gene_resolver,
    "ontology-terms": ontology_terms,
}
"""lookup name -> factory taking the ``KnowledgeGraph``."""


def _digest(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _graphs_declaring(kg: Any, cls: Any, own: str) -> str:
    """SHA-256 of the (content-addressed, so versioned) data graphs declaring instances of
    ``cls``, leaving out those whose IRI starts with ``own`` (the loading source's versions)."""
    rows = kg.raw_query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?x a <{cls}> }} }}")
    return _digest(sorted(row["g"].value for row in rows if not row["g"].value.startswith(own)))


def genes_digest(kg: Any, own: str = "") -> str:
    """Digest of the gene sources a ``GeneResolver`` built now would read: the graph versions
    declaring ``igkg:Gene`` (not the loading source's own, whose IRIs start with ``own``)."""
    return _graphs_declaring(kg, IGKG.Gene, own)


def ontology_terms_digest(kg: Any, own: str = "") -> str:
    """Digest of the ontology sources ``OntologyTerms`` would read: the graph versions declaring ``owl:Class``."""
    return _graphs_declaring(kg, OWL.Class, own)


LOOKUP_DIGESTS: dict[str, Callable[[Any, str], str]] = {
    "genes": genes_digest,
    "ontology-terms": ontology_terms_digest,
}
"""lookup name -> digest of what it is built from, given the graph-IRI prefix of the loading
source's own versions: part of the fingerprint of a load that used it, so a reload after the
genes (or terms) changed re-maps instead of being a no-op. Source graphs are named by a
fingerprint of their content, so the graph IRIs stand for the content (a few ms to compute)."""
