"""Gene expression matrices -> one ``igkg:ExpressionMeasurement`` per gene and sample.

A matrix is CSV or TSV (by suffix, or option ``sep``), optionally gzip-compressed, laid
out genes x samples or samples x genes (first column ``ID``, genes as columns, as ImaGene
writes it). The layout is detected from the ids (``detect_layout``: the axis whose ids
resolve to genes in the store, else ...) and the decision is a note of the load report;
option ``layout`` (``genes-by-samples`` / ``samples-by-genes``) overrides it. The first
column holds the row ids (or option ``id_column``). Gene ids may be symbols, Entrez ids or Ensembl ids with or without a
``.version`` suffix (option ``gene_ids``: ``auto``, ``symbol``, ``entrez``, ``ensembl``);
they go through the store's gene resolver, and an id that does not resolve is kept as
``igkg:geneIdentifier`` text and reported unmapped, never turned into a made-up gene IRI
(an Entrez or Ensembl id keeps its standard identifiers.org IRI).

Real-world layouts: ``header_rows=2`` skips a second header row of sample annotations
(the TCGA "unified" matrices carry the subtype of every sample there);
``annotation_columns`` names (or numbers, 1-based) further non-sample columns to ignore.

Samples become subjects by ``sample_rule``: ``identity`` (default), ``tcga`` (a TCGA
barcode ``TCGA-02-0003-01A-01`` -> patient ``TCGA-02-0003``) or ``regex:<pattern>`` (the
first group, or the whole match). A sample the rule cannot map is a reported rejection;
two samples of one subject keep the first and reject the others (reported). Duplicate
gene ids, duplicate sample ids and non-numeric cells (other than NA / empty) are errors
naming the line and column.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.core.errors import ConfigError, LoadError
from kg.core.files import delimiter_for
from kg.core.namespaces import IGKG
from loaders import _shapes as model
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import cut_short, finite_number, iter_records, no_data_rows
from loaders._genes import ensembl_iri, gene_iri, resolver_for
from loaders._matrices import TransposedBuffer, open_buffer

__all__ = ["LOADER", "detect_layout", "sample_rule"]

logger = logging.getLogger(__name__)

_MISSING = {"", "na", "nan", "n/a", "null", "none", "-", "."}
_TCGA = re.compile(r"^(TCGA-[A-Z0-9]{2}-[A-Z0-9]{4})(?:-.*)?$", re.IGNORECASE)
_ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{6,}(?:\.\d+)?$", re.IGNORECASE)


def sample_rule(rule: str) -> Callable[[str], str | None]:
    """The function mapping a sample id to its subject id (``None`` when it cannot).

    >>> sample_rule("tcga")("TCGA-02-0003-01A-01")
    'TCGA-02-0003'
    >>> sample_rule("tcga")("R01-003") is None
    True
    >>> sample_rule(r"regex:^(R01-\\d+)")("R01-003_tumour")
    'R01-003'
    """
    if rule in ("", "identity"):
        return lambda sample: sample.strip() or None
    if rule == "tcga":

        def tcga(sample: str) -> str | None:
            match = _TCGA.match(sample.strip())
            return match.group(1).upper() if match else None

        return tcga
    if rule.startswith("regex:"):
        try:
            pattern = re.compile(rule[len("regex:"):])
        except re.error as exc:
            raise ConfigError(f"sample_rule {rule!r} is not a valid regular expression: {exc}") from None

        def by_regex(sample: str) -> str | None:
            match = pattern.search(sample.strip())
            if not match:
                return None
            return (match.group(1) if pattern.groups else match.group(0)).strip() or None

        return by_regex
    raise ConfigError(f"unknown sample_rule {rule!r}; use identity, tcga or regex:<pattern>")


_PEEK = 500
"""Rows and columns looked at to tell the layout of a matrix from its ids."""


def _records(path: Path, context: LoadContext, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of every record; a last record with fewer cells than the header and no final newline is refused."""
    width = 0
    for record in iter_records(path, context, delimiter=delimiter):
        if not width:
            width = len(record.cells)
        elif any(c.strip() for c in record.cells):
            truncated = cut_short(path, record, len(record.cells), width)
            if truncated is not None:
                raise truncated
        yield record.line, record.cells


_GENE_HEADERS = re.compile(r"^(gene|genes|gene[ _]?(id|symbol|name)s?|symbol|hugo_symbol|entrez(_?gene)?(_?id)?|ensembl(_?gene)?(_?id)?|probe|id_ref)$", re.IGNORECASE)
"""First-column headers that name gene ids (a genes x samples matrix)."""


def detect_layout(
    header_ids: list[str],
    row_ids: list[str],
    *,
    rows_exhausted: bool,
    is_gene: Callable[[str], bool],
    to_subject: Callable[[str], str | None] | None = None,
    id_header: str = "",
) -> tuple[str, str]:
    """``(layout, reason)``: which axis of a matrix holds the genes, decided from its ids.

    ``header_ids`` are the headers of the data columns, ``row_ids`` the first cells of the
    first rows (all rows when ``rows_exhausted``). In order: the axis whose ids resolve to
    genes (``is_gene``: the store's gene table) more often; the one whose ids look like
    Ensembl / Entrez ids; the other one than the axis the sample rule (``to_subject``, when
    it is not the identity) maps; a first-column header naming genes (``gene``, ``symbol``
    ...); a matrix of at least 20 rows with ten times as many columns as rows is samples x
    genes; else genes x samples.

    >>> detect_layout(["A2M", "AAAS"], ["LUNG1"], rows_exhausted=True, is_gene=lambda i: i in {"A2M", "AAAS"})[0]
    'samples-by-genes'
    >>> detect_layout(["S1", "S2"], ["ENSG00000175899", "ENSG00000094914"], rows_exhausted=True, is_gene=lambda i: False)[0]
    'genes-by-samples'
    """
    columns, rows = header_ids[:_PEEK], row_ids[:_PEEK]

    def shares(measure: Callable[[str], bool]) -> tuple[int, int, float, float]:
        in_columns = sum(1 for i in columns if i and measure(i))
        in_rows = sum(1 for i in rows if i and measure(i))
        return in_columns, in_rows, in_columns / max(len(columns), 1), in_rows / max(len(rows), 1)

    def looks(i: str) -> bool:
        return bool(_ENSEMBL.match(i)) or i.isdigit()

    for measure, what in ((is_gene, "resolve to genes"), (looks, "look like Ensembl / Entrez gene ids")):
        in_columns, in_rows, share_columns, share_rows = shares(measure)
        if max(share_columns, share_rows) >= 0.2 and share_columns != share_rows:
            layout = "samples-by-genes" if share_columns > share_rows else "genes-by-samples"
            return layout, f"{in_columns} of the first {len(columns)} column headers and {in_rows} of the first {len(rows)} row ids {what}"
    if to_subject is not None:
        in_columns, in_rows, share_columns, share_rows = shares(lambda i: to_subject(i) is not None)
        if max(share_columns, share_rows) >= 0.2 and share_columns != share_rows:
            layout = "genes-by-samples" if share_columns > share_rows else "samples-by-genes"
            return layout, f"the sample rule maps {in_columns} of the first {len(columns)} column headers and {in_rows} of the first {len(rows)} row ids"
    if _GENE_HEADERS.match(id_header.strip()):
        return "genes-by-samples", f"no ids resolve to genes; the first column is headed {id_header.strip()!r}"
    if rows_exhausted and len(row_ids) >= 20 and len(header_ids) >= 10 * len(row_ids):
        return "samples-by-genes", f"no ids resolve to genes; {len(header_ids)} columns and {len(row_ids)} rows (more genes than samples)"
    return "genes-by-samples", f"no ids resolve to genes; {len(header_ids)} columns and {'' if rows_exhausted else 'at least '}{len(row_ids)} rows: taken as genes x samples"


def _number(text: str, path: Path, line: int, column: str) -> float | None:
    value = text.strip()
    if value.lower() in _MISSING:
        return None
    number = finite_number(value, path, line=line, field=column)
    if number is None:
        raise LoadError(
            path, f"not a number: {value!r}", line=line, field=column,
            hint="expression cells must be numbers (NA or empty for missing); name annotation columns with annotation_columns",
        )
    return None if math.isnan(number) else number


class _Genes:
    """Resolves gene ids once each and remembers which gene each id became."""

    def __init__(self, context: LoadContext, report: LoadReport, namespace: str | None, path: Path) -> None:
        self.resolver = resolver_for(context, report)
        self.report = report
        self.namespace = namespace
        self.path = path
        self.seen_ids: dict[str, int] = {}
        self.seen_genes: dict[URIRef, tuple[str, int]] = {}

    def gene(self, identifier: str, line: int) -> tuple[URIRef | None, bool]:
        """(gene IRI or None, keep this row?) for a gene id on a line."""
        if identifier in self.seen_ids:
            raise LoadError(
                self.path, f"gene {identifier!r} appears again (first on line {self.seen_ids[identifier]})",
                line=line, hint="one row per gene: aggregate probes or transcripts before loading",
            )
        self.seen_ids[identifier] = line
        namespace = self.namespace
        if namespace is None:
            namespace = "ensembl" if _ENSEMBL.match(identifier) else "entrez" if identifier.isdigit() else None
        result = self.resolver.resolve(identifier, namespace)
        node = result.gene if result.ok else None
        if node is None:
            bucket = {"unmapped": "gene", "ambiguous": "gene-ambiguous", "withdrawn": "gene-withdrawn"}[result.status]
            self.report.unmapped_id(bucket, identifier)
            if result.status == "unmapped" and namespace == "entrez" and identifier.isdigit():
                node = gene_iri(identifier)
            elif result.status == "unmapped" and namespace == "ensembl":
                node = ensembl_iri(identifier)
        if node is not None and node in self.seen_genes:
            first, first_line = self.seen_genes[node]
            self.report.reject(
                f"gene id {identifier!r} is the same gene as {first!r} (line {first_line}); row not loaded",
                line=line, record=identifier,
            )
            return None, False
        if node is not None:
            self.seen_genes[node] = (identifier, line)
        return node, True


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield expression measurements, subjects and their links, row by row."""
    given_layout = context.option("layout")
    layout = str(given_layout or "auto").lower()
    if layout not in ("auto", "genes-by-samples", "samples-by-genes"):
        raise ConfigError(f"option layout must be auto, genes-by-samples or samples-by-genes, not {layout!r}")
    ids = str(context.option("gene_ids", "auto")).lower()
    if ids not in ("auto", "symbol", "entrez", "ensembl"):
        raise ConfigError(f"option gene_ids must be auto, symbol, entrez or ensembl, not {ids!r}")
    header_rows = int(context.option("header_rows", 1))
    rule = str(context.option("sample_rule", "identity"))
    to_subject = sample_rule(rule)
    genes = _Genes(context, report, None if ids == "auto" else ids, path)
    records = _records(path, context, delimiter_for(path, context.option("sep")))
    first = next(records, None)
    if first is None:
        raise LoadError(path, "the file is empty", line=1, hint="expected a header row of sample (or gene) ids")
    header_line, header = first
    header = [h.strip() for h in header]
    id_index = _column_index(header, context.option("id_column"), path, "id_column") if context.option("id_column") else 0
    skip = {id_index}
    for item in str(context.option("annotation_columns", "") or "").split(","):
        if item.strip():
            skip.add(_column_index(header, item.strip(), path, "annotation_columns"))
    for _ in range(header_rows - 1):
        extra = next(records, None)
        if extra is None:
            raise LoadError(path, f"expected {header_rows} header rows", line=header_line + 1, hint="check --header-rows")
        label = extra[1][id_index].strip() if len(extra[1]) > id_index else ""
        report.note(f"header row {extra[0]} ({label or 'unnamed'}) holds sample annotations; not loaded")
    shared: list[Triple] = []
    cohort_name = context.option("cohort")
    cohort_node = model.cohort(context, str(cohort_name), shared) if cohort_name else None
    yield from shared
    data_columns = [i for i in range(len(header)) if i not in skip]
    peeked: list[tuple[int, list[str]]] = []
    for record in records:
        peeked.append(record)
        if len(peeked) >= _PEEK:
            break
    exhausted = len(peeked) < _PEEK
    if not any(any(c.strip() for c in cells) for _, cells in peeked):
        raise no_data_rows(path, header_line + header_rows)
    records = itertools.chain(peeked, records)
    if layout == "auto":
        row_ids = [cells[id_index].strip() for _, cells in peeked if len(cells) > id_index and cells[id_index].strip()]
        layout, reason = detect_layout(
            [header[i] for i in data_columns], row_ids, rows_exhausted=exhausted,
            is_gene=lambda i: genes.resolver.resolve(
                i, genes.namespace or ("ensembl" if _ENSEMBL.match(i) else "entrez" if i.isdigit() else None)
            ).ok,
            to_subject=None if rule in ("", "identity") else to_subject,
            id_header=header[id_index],
        )
        report.note(f"layout {layout} detected from the ids: {reason} (option layout overrides)")
    else:
        report.note(f"layout {layout} (option layout)")
    if layout == "genes-by-samples":
        yield from _genes_by_samples(path, context, report, header, data_columns, id_index, records, genes, to_subject, cohort_node)
    else:
        yield from _samples_by_genes(path, context, report, header, data_columns, id_index, records, genes, to_subject, cohort_node)


def _column_index(header: list[str], name: str, path: Path, option: str) -> int:
    if name in header:
        return header.index(name)
    if name.isdigit() and 1 <= int(name) <= len(header):
        return int(name) - 1
    raise LoadError(path, f"no column {name!r} (option {option}); columns: {', '.join(header[:8])} ...", line=1, hint=f"check --{option.replace('_', '-')}")


def _sample_subjects(
    path: Path, context: LoadContext, report: LoadReport, samples: list[tuple[int, str]],
    to_subject: Callable[[str], str | None], cohort_node: URIRef | None, triples: list[Triple],
) -> dict[int, tuple[str, URIRef]]:
    """Map sample columns (index, id) to subjects; rejections reported; subject triples appended."""
    chosen: dict[int, tuple[str, URIRef]] = {}
    seen_samples: set[str] = set()
    by_subject: dict[str, str] = {}
    for index, sample in samples:
        if sample in seen_samples:
            raise LoadError(path, f"sample {sample!r} appears twice", line=1, field=sample, hint="sample ids must be unique")
        seen_samples.add(sample)
        subject_id = to_subject(sample)
        if subject_id is None:
            report.reject(f"sample {sample!r} matches no subject under sample_rule", record=sample)
            continue
        if subject_id in by_subject:
            report.reject(
                f"sample {sample!r} is another sample of subject {subject_id!r} (already from {by_subject[subject_id]!r}); not loaded",
                record=sample,
            )
            continue
        by_subject[subject_id] = sample
        chosen[index] = (sample, model.subject(context, subject_id, triples, cohort_node=cohort_node))
    if not chosen:
        raise LoadError(path, "no sample column maps to a subject", line=1, hint="check sample_rule and id_column")
    return chosen


def _measurement(context: LoadContext, path: Path, sample: str, subject: URIRef, identifier: str, gene: URIRef | None, value: float) -> list[Triple]:
    node = context.mint("expression", path.name, sample, identifier)
    triples: list[Triple] = [
        (node, RDF.type, IGKG.ExpressionMeasurement),
        (node, IGKG.subject, subject),
        (node, IGKG.sample, Literal(sample)),
        (node, IGKG.geneIdentifier, Literal(identifier)),
        (node, IGKG.value, Literal(repr(value), datatype=XSD.double)),
    ]
    if gene is not None:
        triples.append((node, IGKG.gene, gene))
    return triples


def _matrix_name(genes: _Genes, identifier: str, gene: URIRef | None) -> str:
    """A gene's column in the expression matrix: its symbol when it resolved, else the id as loaded."""
    if gene is None:
        return identifier
    if not hasattr(genes, "symbols"):
        genes.symbols = {str(r.iri): r.symbol for r in genes.resolver}  # type: ignore[attr-defined]
    return genes.symbols.get(str(gene)) or identifier  # type: ignore[attr-defined]


def _genes_by_samples(
    path: Path, context: LoadContext, report: LoadReport, header: list[str], data_columns: list[int], id_index: int,
    records: Iterator[tuple[int, list[str]]], genes: _Genes, to_subject: Callable[[str], str | None], cohort_node: URIRef | None,
) -> Iterator[Triple]:
    triples: list[Triple] = []
    subjects = _sample_subjects(path, context, report, [(i, header[i]) for i in data_columns], to_subject, cohort_node, triples)
    yield from triples
    matrix = TransposedBuffer(context, path, "expression", kind="expression", what="expression value",
                              subjects=[str(s) for _, s in subjects.values()], fields=[header[i] for i in subjects])
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise LoadError(path, f"{len(cells)} cells but the header has {len(header)} columns", line=line, hint="check the separator and quoting of this line")
        report.records_read += 1
        identifier = cells[id_index].strip()
        if not identifier:
            report.reject("row without a gene id", line=line)
            continue
        gene, keep = genes.gene(identifier, line)
        if not keep:
            continue
        for index, (sample, subject) in (subjects.items() if context.values_in_graph else ()):
            value = _number(cells[index], path, line, header[index])
            if value is not None:
                yield from _measurement(context, path, sample, subject, identifier, gene, value)
        if context.columnar:
            matrix.add(_matrix_name(genes, identifier, gene), str(gene) if gene is not None else None,
                       [cells[i] for i in subjects], line)
        if gene is not None:
            yield gene, RDF.type, IGKG.Gene
    matrix.close(report)


def _samples_by_genes(
    path: Path, context: LoadContext, report: LoadReport, header: list[str], data_columns: list[int], id_index: int,
    records: Iterator[tuple[int, list[str]]], genes: _Genes, to_subject: Callable[[str], str | None], cohort_node: URIRef | None,
) -> Iterator[Triple]:
    columns: list[tuple[int, str, URIRef | None]] = []
    for index in data_columns:
        gene, keep = genes.gene(header[index], 1)
        if keep:
            columns.append((index, header[index], gene))
            if gene is not None:
                yield gene, RDF.type, IGKG.Gene
    matrix = open_buffer(
        context, path, "expression", kind="expression", what="expression value", fields=[c[1] for c in columns],
        variables={_matrix_name(genes, identifier, gene): str(gene) if gene is not None else "" for _, identifier, gene in columns},
    )
    seen_samples: set[str] = set()
    by_subject: dict[str, str] = {}
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise LoadError(path, f"{len(cells)} cells but the header has {len(header)} columns", line=line, hint="check the separator and quoting of this line")
        report.records_read += 1
        sample = cells[id_index].strip()
        if sample in seen_samples:
            raise LoadError(path, f"sample {sample!r} appears again", line=line, hint="sample ids must be unique")
        seen_samples.add(sample)
        subject_id = to_subject(sample)
        if subject_id is None:
            report.reject(f"sample {sample!r} matches no subject under sample_rule", line=line, record=sample)
            continue
        if subject_id in by_subject:
            report.reject(f"sample {sample!r} is another sample of subject {subject_id!r}; not loaded", line=line, record=sample)
            continue
        by_subject[subject_id] = sample
        triples: list[Triple] = []
        subject = model.subject(context, subject_id, triples, cohort_node=cohort_node)
        yield from triples
        matrix.add(str(subject), [cells[i] for i, _, _ in columns], line)
        for index, identifier, gene in (columns if context.values_in_graph else ()):
            value = _number(cells[index], path, line, identifier)
            if value is not None:
                yield from _measurement(context, path, sample, subject, identifier, gene, value)
    matrix.close()


LOADER = Loader(
    kind="expression",
    description="Gene expression matrices (CSV/TSV, gzip; genes x samples or samples x genes; symbols, Entrez, Ensembl ids)",
    parse=parse,
    patterns=("*expression*.csv", "*expression*.tsv", "*expression*.txt", "*expression*.csv.gz", "*expression*.tsv.gz"),
    version="1",
    options=("layout", "gene_ids", "id_column", "sample_rule", "header_rows", "annotation_columns", "cohort", "sep"),
)
