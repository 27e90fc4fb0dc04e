"""GO annotation files (GAF 2.x, with or without the ``!gaf-version`` header) -> gene annotations.

Columns as the GO Consortium documents GAF 2.2 (geneontology.org/docs/go-annotation-file-gaf-format-2.2):
1 DB, 2 DB Object ID, 3 DB Object Symbol, 4 Qualifier, 5 GO ID, 6 DB:Reference(s),
7 Evidence Code, 8 With (or) From, 9 Aspect, 10 DB Object Name, 11 DB Object Synonym(s),
12 DB Object Type, 13 Taxon, 14 Date, 15 Assigned By, 16 Annotation Extension,
17 Gene Product Form ID; ``!`` starts a comment line; 15 columns in GAF 1.0, 17 in 2.x.

Each row becomes an ``igkg:GeneAnnotation`` (reified, so qualifier, evidence, reference
and assigning database stay on it) with ``igkg:geneProduct`` (e.g. the UniProtKB IRI),
``igkg:term`` (the GO class) and ``igkg:gene`` when the symbol resolves to a canonical
gene; a non-negated annotation also gets the shortcut ``gene igkg:annotatedWith term``.
Symbols the store's gene resolver cannot map are reported per source. When GO is
loaded (kind ``obo``), an annotation to an obsolete GO id is rejected with its line (and
the replacement named where GO gives one); ids the loaded GO lacks are reported as
unmapped (the loaded GO may be a subset).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.errors import LoadError
from kg.core.namespaces import DCT, GO, IGKG, RDF, expand
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import cut_short, no_data_rows, read_lines
from loaders._genes import resolve_or_report, resolver_for

__all__ = ["COLUMNS", "LOADER"]

logger = logging.getLogger(__name__)

COLUMNS = (
    "db", "db_object_id", "symbol", "qualifier", "go_id", "reference", "evidence", "with_from",
    "aspect", "name", "synonyms", "type", "taxon", "date", "assigned_by", "extension", "form_id",
)
_GO_ID = re.compile(r"^GO:(\d{7})$")


def _terms(context: LoadContext, report: LoadReport):  # noqa: ANN202 - OntologyTerms | None
    try:
        terms = context.lookup("ontology-terms")
    except KeyError:
        return None
    if not terms.has_prefix(str(GO)):
        report.note("GO is not loaded: obsolete GO ids are not checked (load go.obo with kind obo first)")
        return None
    return terms


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one reified annotation per GAF row."""
    resolver = resolver_for(context, report)
    terms = _terms(context, report)
    version = None
    for line in read_lines(path, context):
        lineno, text = line.number, line.text
        if text.startswith("!"):
            if text.lower().startswith("!gaf-version:"):
                version = text.split(":", 1)[1].strip()
                report.note(f"GAF version {version}")
            continue
        if not text.strip():
            continue
        cells = text.split("\t")
        truncated = cut_short(path, line, len(cells), 17 if (version or "2").startswith("2") else 15)
        if truncated is not None:
            raise truncated
        if len(cells) < 15:
            raise LoadError(
                path,
                f"{len(cells)} tab-separated columns; a GAF row has 15 (GAF 1.0) or 17 (GAF 2.x)",
                line=lineno,
                hint="GAF is tab-separated; check the separator or whether the file was cut",
            )
        row = dict(zip(COLUMNS, [c.strip() for c in cells] + [""] * (len(COLUMNS) - len(cells)), strict=False))
        report.records_read += 1
        match = _GO_ID.match(row["go_id"])
        if not match:
            report.reject(f"not a GO id: {row['go_id']!r}", line=lineno, field="GO ID")
            continue
        term = GO[match.group(1)]
        if terms is not None:
            if str(term) in terms.obsolete:
                new = terms.replaced_by.get(str(term))
                hint = f"; replaced by {new.rsplit('/', 1)[-1].replace('_', ':')}" if new else ""
                report.reject(f"{row['go_id']} is obsolete in the loaded GO{hint}", line=lineno, field="GO ID")
                continue
            if str(term) not in terms.classes:
                report.unmapped_id("GO", row["go_id"])  # kept: the loaded GO may be a subset
        product_iri = expand(f"{row['db']}:{row['db_object_id']}")
        key = hashlib.sha256("\t".join(cells[:16]).encode()).hexdigest()[:16]
        node = context.mint("go-annotation", row["db"], row["db_object_id"], row["go_id"].replace(":", "_"), key)
        yield node, RDF.type, IGKG.GeneAnnotation
        yield node, IGKG["term"], term
        if product_iri is not None:
            yield node, IGKG.geneProduct, URIRef(product_iri)
        else:
            report.unmapped_id("gene-product", f"{row['db']}:{row['db_object_id']}")
        if row["qualifier"]:
            yield node, IGKG.qualifier, Literal(row["qualifier"])
        if row["evidence"]:
            yield node, IGKG.evidence, Literal(row["evidence"])
        for reference in filter(None, row["reference"].split("|")):
            yield node, DCT.source, Literal(reference)
        if row["assigned_by"]:
            yield node, DCT.creator, Literal(row["assigned_by"])
        if row["date"]:
            yield node, DCT.date, Literal(row["date"])
        namespace = "hgnc" if row["db"] == "HGNC" else "entrez" if row["db"] in ("NCBIGene", "EntrezGene") else None
        identifier = row["db_object_id"] if namespace else row["symbol"]
        gene = resolve_or_report(resolver, identifier, report, namespace)
        if gene is None:
            continue
        yield node, IGKG.gene, gene
        if "NOT" not in row["qualifier"].upper().split("|"):
            yield gene, IGKG.annotatedWith, term
    if not report.records_read:
        raise no_data_rows(path, 1, hint="only '!' header lines and no annotation row; a cut download? get it again")
    if version is None:
        report.note("no !gaf-version header; read as GAF 2.x columns")


LOADER = Loader(
    kind="gaf",
    description="GO annotation files (GAF 2.x, gzip or not): reified gene annotations with evidence, and gene -> GO term shortcuts",
    parse=parse,
    patterns=("*.gaf", "*.gaf.gz", "gene_association.*"),
    version="1",
)
