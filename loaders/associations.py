"""Published radiogenomic associations from a table -> ``igkg:RadiogenomicAssociation``.

A CSV or TSV (by suffix) with one association per row: the imaging feature (``feature``),
the molecular side (``gene``, or ``target`` / ``marker``), and where it was published
(``source``, ``publication``, ``doi`` or ``pmid``); optional ``statistic``, ``effect_size``,
``p``, ``q``, ``n``, ``method`` and ``cohort``. Literature results then sit beside computed
ones and are told apart by provenance: an imported association has ``dct:source`` (the
publication's DOI or PubMed IRI when the cell is one, and ``igkg:publication`` text
always), a computed one ``prov:wasGeneratedBy`` an analysis run.

The feature node is the one every loader mints for a pyradiomics name
(``feature/<name>``); the target is a gene through the store's gene resolver, an Entrez id,
or a marker named like ``EGFR mutation status``. A row whose target does not resolve is a
reported rejection (with the id listed as unmapped), never an invented IRI; a non-numeric
number is an error naming line and column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.files import delimiter_for
from kg.core.namespaces import DCT, DOI, IGKG, PUBMED, STATO
from loaders import _shapes as model
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import finite_number, iter_table
from loaders._genes import gene_iri, resolver_for

__all__ = ["LOADER", "METHOD_TERMS", "publication_iri"]

logger = logging.getLogger(__name__)

_COLUMNS: dict[str, tuple[str, ...]] = {
    "feature": ("feature", "radiomic_feature", "imaging_feature", "imaging feature"),
    "target": ("gene", "target", "marker", "pathway", "gene_symbol"),
    "source": ("source", "publication", "reference", "doi", "pmid"),
    "statistic": ("statistic", "rho", "r", "coefficient", "correlation"),
    "effect_size": ("effect_size", "effect size", "auc", "odds_ratio"),
    "p": ("p", "p_value", "pvalue", "p-value", "p value"),
    "q": ("q", "q_value", "qvalue", "fdr", "adj_p", "q-value"),
    "n": ("n", "sample_size", "samples"),
    "method": ("method", "test"),
    "cohort": ("cohort", "dataset"),
}

METHOD_TERMS: dict[str, URIRef] = {
    "spearman": STATO["0000201"],
    "spearman's rank correlation": STATO["0000201"],
    "spearman's rank correlation coefficient": STATO["0000201"],
    "pearson": STATO["0000280"],
    "pearson's correlation coefficient": STATO["0000280"],
    "pointbiserial": STATO["0000280"],
    "point-biserial": STATO["0000280"],
    "mannwhitney": STATO["0000076"],
    "mann-whitney": STATO["0000076"],
    "mann-whitney u-test": STATO["0000076"],
    "mann-whitney u test": STATO["0000076"],
    "wilcoxon rank-sum test": STATO["0000076"],
    "kruskal": STATO["0000094"],
    "kruskal-wallis": STATO["0000094"],
    "kruskal wallis test": STATO["0000094"],
}
"""Method names as tables write them -> STATO terms (verified in STATO's OBO release)."""

_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_PMID = re.compile(r"^(?:pmid:\s*|pubmed:\s*)?(\d{1,9})$", re.IGNORECASE)


def publication_iri(text: str) -> URIRef | None:
    """The IRI of a publication cell that is a DOI or a PubMed id, else ``None``.

    >>> publication_iri("doi:10.1148/radiol.12111607")
    rdflib.term.URIRef('https://doi.org/10.1148/radiol.12111607')
    >>> publication_iri("PMID: 22723499")
    rdflib.term.URIRef('http://identifiers.org/pubmed/22723499')
    >>> publication_iri("Gevaert et al. 2012") is None
    True
    """
    text = text.strip()
    match = _DOI.match(text)
    if match:
        return DOI[match.group(1)]
    match = _PMID.match(text)
    if match:
        return PUBMED[match.group(1)]
    return None


def _column(header: list[str], field: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for name in _COLUMNS[field]:
        if name in lowered:
            return lowered[name]
    return None


def _number(text: str, path: Path, line: int, column: str) -> float | None:
    text = text.strip()
    if not text or text.lower() in ("na", "nan", "n/a", "-"):
        return None
    value = finite_number(text, path, line=line, field=column)
    if value is None:
        raise LoadError(path, f"not a number: {text!r}", line=line, field=column, hint="write a number, or NA for none")
    return value


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one association per table row, with its publication as ``dct:source``."""
    rows = iter_table(path, context, delimiter=delimiter_for(path))
    resolver = resolver_for(context, report)
    columns: dict[str, str | None] | None = None
    features: set[URIRef] = set()
    for row in rows:
        if columns is None:
            header = list(row.cells)
            columns = {field: _column(header, field) for field in _COLUMNS}
            missing = [f for f in ("feature", "target", "source") if columns[f] is None]
            if missing:
                raise LoadError(
                    path, f"no column for {', '.join(missing)}; columns found: {', '.join(header)}", line=1,
                    hint="name them feature, gene (or target) and source (or publication)",
                )
        report.records_read += 1
        cells = row.cells
        feature = cells[columns["feature"]].strip()  # type: ignore[index]
        target = cells[columns["target"]].strip()  # type: ignore[index]
        source = cells[columns["source"]].strip()  # type: ignore[index]
        if not feature or not target or not source:
            report.reject("feature, target and source are all needed", line=row.line)
            continue
        numbers: list[tuple[URIRef, float]] = []
        for field, predicate in (("statistic", IGKG.statistic), ("effect_size", IGKG.effectSize), ("p", IGKG.pValue), ("q", IGKG.qValue)):
            column = columns[field]
            value = _number(cells.get(column, ""), path, row.line, column) if column else None
            if value is not None:
                numbers.append((predicate, value))
        n = _number(cells.get(columns["n"], ""), path, row.line, columns["n"]) if columns["n"] else None
        triples: list[Triple] = []
        target_node = _target(context, resolver, report, target, triples)
        if target_node is None:
            report.reject(f"target {target!r} does not resolve to a gene or marker; not loaded", line=row.line, record=target)
            continue
        feature_node = context.mint("feature", feature)
        if feature_node not in features:
            features.add(feature_node)
            parsed = model.feature_name(feature)
            if parsed is not None:
                triples += [(feature_node, RDF.type, IGKG.RadiomicFeature), (feature_node, IGKG.pyradiomicsName, Literal(feature))]
            else:
                triples += [(feature_node, RDF.type, IGKG.ImagingPhenotype), (feature_node, RDFS.label, Literal(feature))]
        node = context.mint("published-association", path.name, str(row.line))
        triples += [
            (node, RDF.type, IGKG.RadiogenomicAssociation),
            (node, IGKG.feature, feature_node),
            (node, IGKG.target, target_node),
            (node, IGKG.publication, Literal(source)),
        ]
        publication = publication_iri(source)
        if publication is not None:
            triples.append((node, DCT.source, publication))
        else:
            report.unmapped_id("publication", source)
        for predicate, value in numbers:
            triples.append((node, predicate, Literal(repr(value), datatype=XSD.double)))
        if n is not None:
            triples.append((node, IGKG.sampleSize, Literal(int(n), datatype=XSD.integer)))
        if columns["method"]:
            method = cells.get(columns["method"], "").strip()
            if method:
                triples.append((node, IGKG.methodName, Literal(method)))
                term = METHOD_TERMS.get(method.lower())
                if term is not None:
                    triples.append((node, IGKG.method, term))
                else:
                    report.unmapped_id("method", method)
        if columns["cohort"]:
            cohort = cells.get(columns["cohort"], "").strip()
            if cohort:
                triples.append((node, IGKG.cohort, model.cohort(context, cohort, triples)))
        yield from triples
    if columns is None:
        raise LoadError(path, "no associations in the table", line=1, hint="give a table with one association per row")


def _target(context: LoadContext, resolver: object, report: LoadReport, text: str, triples: list[Triple]) -> URIRef | None:
    if model.marker_gene_symbol(text):
        symbol = model.marker_gene_symbol(text) or ""
        result = resolver.resolve(symbol)  # type: ignore[attr-defined]
        return model.marker(context, text, triples, gene=result.gene if result.ok else None)
    namespace = "entrez" if text.isdigit() else None
    result = resolver.resolve(text, namespace)  # type: ignore[attr-defined]
    if result.ok:
        return result.gene
    if text.isdigit():
        report.unmapped_id("gene", text)
        return gene_iri(text)
    report.unmapped_id({"unmapped": "gene", "ambiguous": "gene-ambiguous", "withdrawn": "gene-withdrawn"}[result.status], text)
    return None


LOADER = Loader(
    kind="associations",
    description="Published radiogenomic associations (feature, gene, statistic, p, q, source/publication) told apart by dct:source",
    parse=parse,
    patterns=("*associations*.csv", "*associations*.tsv"),
    version="1",
    options=(),
)
