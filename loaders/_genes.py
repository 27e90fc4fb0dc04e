"""Gene identity: one canonical IRI per gene, and the resolver every loader maps genes with.

The canonical node of a human gene is its NCBI Gene IRI
(``http://identifiers.org/ncbigene/<id>``); HGNC and Ensembl IRIs are attached to it with
``skos:exactMatch`` (not ``owl:sameAs``: a reasoner would merge the nodes and their
statements, and Ensembl/HGNC/NCBI are not always one-to-one). A gene that HGNC knows but
NCBI does not (no Entrez id) keeps its HGNC IRI as its canonical node.

``GeneResolver`` maps what sources write (approved symbols, aliases, previous symbols,
``HGNC:1234``, Entrez ids, Ensembl ids with or without ``.version``) to that node. It never
guesses: an alias shared by several genes is ``"ambiguous"`` with the candidates listed,
an approved symbol always beats an alias or previous symbol, and a withdrawn symbol is
reported as ``"withdrawn"``.

>>> r = GeneResolver([GeneRecord(ncbi_id="1956", hgnc_id="HGNC:3236", symbol="EGFR",
...                              aliases=("ERBB",), previous_symbols=("ERBB1",),
...                              ensembl_id="ENSG00000146648")])
>>> r.resolve("ERBB1").gene
rdflib.term.URIRef('http://identifiers.org/ncbigene/1956')
>>> r.resolve("ENSG00000146648.15").matched_by
'ensembl'
>>> r.resolve("KRAS").status
'unmapped'
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef

from kg.core.namespaces import ENSEMBL, HGNC, IGKG, NCBIGENE, RDF, RDFS, SKOS
from loaders._contract import LoadContext, LoadReport, Triple

__all__ = [
    "GeneRecord",
    "GeneResolver",
    "Resolution",
    "ensembl_iri",
    "gene_iri",
    "gene_triples",
    "hgnc_iri",
    "member_triples",
    "normalise_ensembl",
    "normalise_hgnc",
    "resolve_or_report",
    "resolver_for",
]

logger = logging.getLogger(__name__)

_HGNC_RE = re.compile(r"^(?:HGNC:)+(\d+)$", re.IGNORECASE)
_ENSEMBL_RE = re.compile(r"^(ENS[A-Z]*G\d{6,})(?:\.\d+)?$", re.IGNORECASE)
_ENTREZ_PREFIX_RE = re.compile(r"^(?:ncbigene|ncbi_gene|entrez|entrezgene|geneid|gene_id):\s*(\d+)$", re.IGNORECASE)
_WITHDRAWN = ("withdrawn",)


def gene_iri(ncbi_id: str | int) -> URIRef:
    """The canonical NCBI Gene IRI of a gene.

    >>> gene_iri(1956)
    rdflib.term.URIRef('http://identifiers.org/ncbigene/1956')
    """
    text = str(ncbi_id).strip()
    if not text.isdigit():
        raise ValueError(f"not an NCBI Gene id: {ncbi_id!r}")
    return NCBIGENE[text]


def normalise_hgnc(hgnc_id: str | int) -> str:
    """``HGNC:1234`` or ``1234`` -> ``1234`` (the identifiers.org local part).

    >>> normalise_hgnc("HGNC:HGNC:5")
    '5'
    """
    text = str(hgnc_id).strip()
    match = _HGNC_RE.match(text)
    if match:
        return match.group(1)
    if text.isdigit():
        return text
    raise ValueError(f"not an HGNC id: {hgnc_id!r}")


def hgnc_iri(hgnc_id: str | int) -> URIRef:
    """The identifiers.org HGNC IRI of ``HGNC:1234`` or ``1234``.

    >>> hgnc_iri("HGNC:3236")
    rdflib.term.URIRef('http://identifiers.org/hgnc/3236')
    """
    return HGNC[normalise_hgnc(hgnc_id)]


def normalise_ensembl(ensembl_id: str) -> str:
    """An Ensembl gene id without its version suffix (``ENSG00000146648.15`` -> ``ENSG00000146648``)."""
    text = ensembl_id.strip()
    match = _ENSEMBL_RE.match(text)
    if not match:
        raise ValueError(f"not an Ensembl gene id: {ensembl_id!r}")
    return match.group(1).upper()


def ensembl_iri(ensembl_id: str) -> URIRef:
    """The identifiers.org Ensembl IRI of a gene id (version suffix dropped)."""
    return ENSEMBL[normalise_ensembl(ensembl_id)]


@dataclass(frozen=True)
class GeneRecord:
    """What HGNC (or NCBI gene_info) says about one gene; ids as the sources write them."""

    ncbi_id: str | None
    hgnc_id: str | None
    symbol: str
    name: str = ""
    locus_type: str = ""
    status: str = "Approved"
    aliases: tuple[str, ...] = ()
    previous_symbols: tuple[str, ...] = ()
    ensembl_id: str | None = None

    @property
    def iri(self) -> URIRef | None:
        """The canonical node: NCBI Gene, else HGNC, else ``None``."""
        if self.ncbi_id:
            return gene_iri(self.ncbi_id)
        if self.hgnc_id:
            return hgnc_iri(self.hgnc_id)
        return None

    @property
    def withdrawn(self) -> bool:
        """True for an HGNC entry or symbol that has been withdrawn."""
        return any(w in self.status.lower() for w in _WITHDRAWN)


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one identifier.

    ``status`` is ``"ok"`` (``gene`` set), ``"unmapped"``, ``"ambiguous"`` (``candidates``
    lists the genes it could be) or ``"withdrawn"``; ``matched_by`` says how it matched
    (``symbol``, ``alias``, ``previous``, ``hgnc``, ``entrez``, ``ensembl``).
    """

    query: str
    status: str
    gene: URIRef | None = None
    matched_by: str | None = None
    candidates: tuple[URIRef, ...] = ()
    symbol: str | None = None

    @property
    def ok(self) -> bool:
        """True when the identifier resolved to exactly one current gene."""
        return self.status == "ok"


@dataclass
class _Index:
    by_symbol: dict[str, list[GeneRecord]] = field(default_factory=lambda: defaultdict(list))
    by_other: dict[str, list[tuple[str, GeneRecord]]] = field(default_factory=lambda: defaultdict(list))


class GeneResolver:
    """Maps gene symbols and identifiers to canonical gene IRIs, refusing to guess.

    Build it from ``GeneRecord`` objects (``GeneResolver(records)``); the store offers one
    over the genes it holds as the lookup ``"genes"`` (``kg.store.lookups``).
    """

    def __init__(self, records: Iterable[GeneRecord] = ()) -> None:
        self._records: list[GeneRecord] = []
        self._exact = _Index()
        self._folded = _Index()
        self._hgnc: dict[str, GeneRecord] = {}
        self._entrez: dict[str, GeneRecord] = {}
        self._ensembl: dict[str, list[GeneRecord]] = defaultdict(list)
        for record in records:
            self.add(record)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[GeneRecord]:
        return iter(self._records)

    def add(self, record: GeneRecord) -> None:
        """Index one more gene."""
        if record.iri is None:
            logger.debug("gene %s has neither an NCBI nor an HGNC id; not indexed", record.symbol)
            return
        self._records.append(record)
        for index, key in ((self._exact, str), (self._folded, str.upper)):
            if record.symbol:
                index.by_symbol[key(record.symbol)].append(record)
            for prev in record.previous_symbols:
                index.by_other[key(prev)].append(("previous", record))
            for alias in record.aliases:
                index.by_other[key(alias)].append(("alias", record))
        if record.hgnc_id:
            self._hgnc[normalise_hgnc(record.hgnc_id)] = record
        if record.ncbi_id:
            self._entrez[record.ncbi_id.strip()] = record
        if record.ensembl_id:
            try:
                self._ensembl[normalise_ensembl(record.ensembl_id)].append(record)
            except ValueError:
                logger.debug("ignoring malformed Ensembl id %r of %s", record.ensembl_id, record.symbol)

    # ------------------------------------------------------------------ resolving
    def resolve(self, identifier: str, namespace: str | None = None) -> Resolution:
        """Resolve a symbol, alias, previous symbol, HGNC, Entrez or Ensembl id.

        ``namespace`` (``"symbol"``, ``"hgnc"``, ``"entrez"``, ``"ensembl"``) says what
        the identifier is when the source states it; a bare number is otherwise tried as
        an Entrez id and as an HGNC id, and is ambiguous if both match different genes.
        """
        text = (identifier or "").strip()
        if not text or text == "-":
            return Resolution(text, "unmapped")
        if namespace == "hgnc" or (namespace is None and _HGNC_RE.match(text)):
            return self._by_id(text, self._hgnc.get(_safe(normalise_hgnc, text)), "hgnc")
        if namespace == "entrez" or (namespace is None and _ENTREZ_PREFIX_RE.match(text)):
            match = _ENTREZ_PREFIX_RE.match(text)
            number = match.group(1) if match else text
            return self._by_id(text, self._entrez.get(number), "entrez")
        if namespace == "ensembl" or (namespace is None and _ENSEMBL_RE.match(text)):
            found = self._ensembl.get(_safe(normalise_ensembl, text) or "", [])
            return self._choose(text, [("ensembl", r) for r in found])
        if namespace is None and text.isdigit():
            hits = [("entrez", self._entrez.get(text)), ("hgnc", self._hgnc.get(text))]
            found = [(how, r) for how, r in hits if r is not None]
            return self._choose(text, found)
        return self._by_symbol(text)

    def _by_id(self, text: str, record: GeneRecord | None, how: str) -> Resolution:
        return self._choose(text, [(how, record)] if record is not None else [])

    def _by_symbol(self, text: str) -> Resolution:
        for index, key in ((self._exact, text), (self._folded, text.upper())):
            approved = [r for r in index.by_symbol.get(key, []) if not r.withdrawn]
            if approved:
                return self._choose(text, [("symbol", r) for r in approved])
            others = [(how, r) for how, r in index.by_other.get(key, []) if not r.withdrawn]
            if others:
                return self._choose(text, others)
            withdrawn = index.by_symbol.get(key, [])
            if withdrawn:
                return Resolution(text, "withdrawn", None, "symbol", tuple(_unique_iris(withdrawn)), withdrawn[0].symbol)
        return Resolution(text, "unmapped")

    @staticmethod
    def _choose(text: str, found: list[tuple[str, GeneRecord]]) -> Resolution:
        if not found:
            return Resolution(text, "unmapped")
        iris = _unique_iris(r for _, r in found)
        if len(iris) > 1:
            return Resolution(text, "ambiguous", None, found[0][0], tuple(sorted(iris)), None)
        how, record = found[0]
        if record.withdrawn:
            return Resolution(text, "withdrawn", None, how, tuple(iris), record.symbol)
        return Resolution(text, "ok", record.iri, how, tuple(iris), record.symbol)


def gene_triples(record: GeneRecord) -> Iterator[Triple]:
    """The triples of one gene in igkg's shape (shared by the ``hgnc`` and ``gene-info`` loaders).

    Canonical node typed ``igkg:Gene``; ``rdfs:label`` = approved symbol; ``skos:altLabel``
    for aliases and previous symbols (previous ones also as ``igkg:previousSymbol``);
    ``skos:exactMatch`` to the HGNC and Ensembl IRIs; the full name as ``igkg:geneName``,
    the locus type as ``igkg:locusType`` and a non-approved status as
    ``igkg:nomenclatureStatus``.
    """
    node = record.iri
    if node is None:
        return
    yield node, RDF.type, IGKG.Gene
    if record.symbol:
        yield node, RDFS.label, Literal(record.symbol)
    if record.name:
        yield node, IGKG.geneName, Literal(record.name)
    if record.locus_type:
        yield node, IGKG.locusType, Literal(record.locus_type)
    if record.status and record.status != "Approved":
        yield node, IGKG.nomenclatureStatus, Literal(record.status)
    for alias in record.aliases:
        yield node, SKOS.altLabel, Literal(alias)
    for prev in record.previous_symbols:
        yield node, SKOS.altLabel, Literal(prev)
        yield node, IGKG.previousSymbol, Literal(prev)
    if record.hgnc_id:
        hgnc = hgnc_iri(record.hgnc_id)
        if hgnc != node:
            yield node, SKOS.exactMatch, hgnc
    if record.ensembl_id:
        yield node, SKOS.exactMatch, ensembl_iri(record.ensembl_id)


def resolve_or_report(
    resolver: GeneResolver, identifier: str, report: LoadReport, namespace: str | None = None
) -> URIRef | None:
    """Resolve one identifier; on failure record it in the report (``unmapped`` under
    ``gene``, ``gene-ambiguous`` or ``gene-withdrawn``) and return ``None``."""
    result = resolver.resolve(identifier, namespace)
    if result.ok:
        return result.gene
    bucket = {"unmapped": "gene", "ambiguous": "gene-ambiguous", "withdrawn": "gene-withdrawn"}[result.status]
    report.unmapped_id(bucket, identifier)
    return None


def _unique_iris(records: Iterable[GeneRecord]) -> list[URIRef]:
    seen: dict[URIRef, None] = {}
    for record in records:
        if record.iri is not None:
            seen[record.iri] = None
    return list(seen)


def _safe(function: Any, text: str) -> str | None:
    try:
        return function(text)
    except ValueError:
        return None


def resolver_for(context: LoadContext, report: LoadReport) -> GeneResolver:
    """The store's gene resolver offered to this load (``context.lookup("genes")``).

    When the load has no store behind it, or the store holds no genes yet, an empty
    resolver is used and the report says so: every symbol is then reported unmapped.
    """
    try:
        resolver = context.lookup("genes")
    except KeyError:
        resolver = GeneResolver()
    if len(resolver) == 0:
        report.note("no genes in the store to map symbols to; load an HGNC or gene_info file first")
    return resolver


def member_triples(
    resolver: GeneResolver,
    identifier: str,
    container: URIRef,
    report: LoadReport,
    *,
    namespace: str | None = None,
) -> list[Triple]:
    """``gene igkg:memberOf container`` for a member that resolves; otherwise the member is
    kept as ``container igkg:memberSymbol "<id>"`` and reported (never a made-up gene IRI).

    An Entrez id that the resolver does not know still gets its NCBI Gene IRI: that IRI is
    the standard one, so nothing is invented.
    """
    identifier = identifier.strip()
    if not identifier:
        return []
    if namespace == "entrez" and identifier.isdigit():
        result = resolver.resolve(identifier, "entrez")
        gene = result.gene or gene_iri(identifier)
        return [(gene, RDF.type, IGKG.Gene), (gene, IGKG.memberOf, container)]
    gene = resolve_or_report(resolver, identifier, report, namespace)
    if gene is None:
        return [(container, IGKG.memberSymbol, Literal(identifier))]
    return [(gene, IGKG.memberOf, container)]
