"""Gene-set GMT files (MSigDB, Enrichr, Reactome) -> gene sets and their member genes.

GMT as the Broad documents it (software.broadinstitute.org/cancer/software/gsea/wiki,
"GMT: Gene Matrix Transposed file format"): one gene set per line, tab-separated: the
set's name, a description (often a URL, may be empty), then its genes (symbols, or
Entrez ids in ``*.entrez.gmt``). Enrichr libraries may weight members as
``SYMBOL,0.5``; the weight is dropped. ``iter_gmt`` is the one GMT reader of igkg (the
association engine's gene-set scores read GMT files through it too).

Each set is an ``igkg:GeneSet``. Its IRI is a standard one when the line names one: a
Reactome stable id in the name or description (``R-HSA-164843``) or a GO id
(``... (GO:0032543)``); otherwise it is minted as ``geneset/<collection>/<name>``
(option ``collection``, default the file name without suffixes). Members go through
the store's gene resolver; unmapped or ambiguous symbols are reported and kept as
``igkg:memberSymbol`` text, never turned into made-up gene IRIs. Option ``ids``
(``symbol``, ``entrez`` or ``auto``: numbers are Entrez ids) says what members are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.errors import ConfigError, LoadError
from kg.core.namespaces import GO, IGKG, RDF, RDFS, REACTOME
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_lines
from loaders._genes import member_triples, resolver_for

__all__ = ["LOADER", "GmtLine", "collection_name", "iter_gmt", "standard_iri"]

logger = logging.getLogger(__name__)

_REACTOME_ID = re.compile(r"\bR-[A-Z]{3}-\d+\b")
_GO_ID = re.compile(r"\bGO[:_](\d{7})\b")


def standard_iri(name: str, description: str) -> URIRef | None:
    """The standard IRI a gene set line names (Reactome stable id or GO id), else ``None``.

    >>> standard_iri("mitochondrial translation (GO:0032543)", "")
    rdflib.term.URIRef('http://purl.obolibrary.org/obo/GO_0032543')
    >>> standard_iri("2-LTR-circle-formation", "R-HSA-164843")
    rdflib.term.URIRef('http://identifiers.org/reactome/R-HSA-164843')
    >>> standard_iri("HALLMARK_HYPOXIA", "http://www.broadinstitute.org/gsea/msigdb/cards/HALLMARK_HYPOXIA") is None
    True
    """
    for text in (name, description):
        match = _REACTOME_ID.search(text)
        if match:
            return REACTOME[match.group(0)]
        match = _GO_ID.search(text)
        if match:
            return GO[match.group(1)]
    return None


@dataclass(frozen=True)
class GmtLine:
    """One gene set line of a GMT file: its line number, name, description and members."""

    line: int
    name: str
    description: str
    members: tuple[str, ...]
    """Member genes as written, Enrichr weights (``SYMBOL,0.5``) dropped, each once, in order."""


def iter_gmt(path: Path, context: LoadContext | None = None) -> Iterator[GmtLine]:
    """Yield the gene set lines of a GMT file (gzip or not); blank and ``#`` lines are skipped.

    :raises LoadError: a line has no tab between the set name and its description.
    """
    for lineno, text in iter_lines(path, context):
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        if len(cells) < 2:
            raise LoadError(
                path,
                "not a GMT line: no tab between the set name and its description",
                line=lineno,
                hint="GMT is tab-separated: name, description, then one gene per cell",
            )
        members = (cell.split(",", 1)[0].strip() for cell in cells[2:])
        yield GmtLine(lineno, cells[0].strip(), cells[1].strip(), tuple(dict.fromkeys(m for m in members if m)))


def collection_name(path: Path) -> str:
    """A GMT file's name without ``.gz``, ``.gmt``, ``.txt``: the default collection of its sets.

    >>> collection_name(Path("h.all.v7.0.symbols.gmt.gz"))
    'h.all.v7.0.symbols'
    """
    name = path.name
    for suffix in (".gz", ".gmt", ".txt"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one gene set per GMT line, with its members."""
    ids = str(context.option("ids", "auto")).lower()
    if ids not in ("auto", "symbol", "entrez"):
        raise ConfigError(f"option ids must be auto, symbol or entrez, not {ids!r}")
    collection = str(context.option("collection", collection_name(path)))
    resolver = resolver_for(context, report)
    seen: dict[URIRef, int] = {}
    sets = 0
    for entry in iter_gmt(path, context):
        lineno, name, description = entry.line, entry.name, entry.description
        report.records_read += 1
        if not name:
            report.reject("gene set without a name", line=lineno)
            continue
        node = standard_iri(name, description) or context.mint("geneset", collection, name)
        if node in seen:
            report.reject(f"gene set {name!r} already defined on line {seen[node]}", line=lineno)
            continue
        seen[node] = lineno
        sets += 1
        yield node, RDF.type, IGKG.GeneSet
        if str(node).startswith(str(REACTOME)):
            yield node, RDF.type, IGKG.Pathway
        yield node, RDFS.label, Literal(name)
        if description:
            if description.startswith(("http://", "https://")):
                yield node, RDFS.seeAlso, URIRef(description.replace(" ", "%20"))
            else:
                yield node, RDFS.comment, Literal(description)
        for member in entry.members:
            namespace = "entrez" if ids == "entrez" or (ids == "auto" and member.isdigit()) else None
            if namespace is None and ids == "symbol":
                namespace = "symbol"
            yield from member_triples(resolver, member, node, report, namespace=namespace if namespace != "symbol" else None)
    if not report.records_read:
        raise LoadError(path, "no gene set lines", line=1, hint="the file is empty or only comments; a cut download? get it again")
    report.note(f"{sets} gene sets in collection {collection!r}")


LOADER = Loader(
    kind="gmt",
    description="Gene-set GMT files (MSigDB, Enrichr, Reactome): gene sets and member genes (options collection, ids)",
    parse=parse,
    patterns=("*.gmt", "*.gmt.gz", "*.gmt.txt"),
    version="1",
    options=("collection", "ids"),
)
