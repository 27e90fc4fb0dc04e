"""HGNC gene sets (``hgnc_complete_set.txt`` and HGNC custom downloads) -> canonical genes.

HGNC publishes the complete set as a tab-separated file with lower-case column names
(``hgnc_id``, ``symbol``, ``name``, ``locus_type``, ``status``, ``alias_symbol``,
``prev_symbol``, ``entrez_id``, ``ensembl_gene_id`` ...; ``gene_family`` in older
releases, ``gene_group`` in newer ones); multi-valued cells are quoted and
pipe-separated (``"FLJ11506|p34"``) and rows stop at their last non-empty cell (ragged).
The custom-download page (genenames.org/download/custom) writes title-case headers
(``HGNC ID``, ``Approved symbol``, ``Previous symbols``, ``Alias symbols``, ``NCBI Gene
ID``, ``Ensembl gene ID`` ...) with comma-separated lists; both are read here.

Each row becomes one ``igkg:Gene`` whose IRI is its NCBI Gene IRI (HGNC IRI when HGNC
gives no Entrez id), see ``loaders._genes.gene_triples``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.core.errors import LoadError
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import cut_short, iter_lines, iter_records, no_data_rows
from loaders._genes import GeneRecord, gene_triples, normalise_ensembl, normalise_hgnc

__all__ = ["COLUMNS", "LOADER", "read_hgnc"]

logger = logging.getLogger(__name__)

COLUMNS: dict[str, tuple[str, ...]] = {
    "hgnc_id": ("hgnc_id", "hgnc id"),
    "symbol": ("symbol", "approved symbol"),
    "name": ("name", "approved name"),
    "status": ("status",),
    "locus_type": ("locus_type", "locus type"),
    "aliases": ("alias_symbol", "alias symbols", "alias symbol", "synonyms"),
    "previous": ("prev_symbol", "previous symbols", "previous symbol"),
    "entrez": (
        "entrez_id", "ncbi gene id", "entrez gene id", "ncbi gene id(supplied by ncbi)",
        "entrez gene id(supplied by ncbi)", "ncbi gene id (supplied by ncbi)",
    ),
    "ensembl": (
        "ensembl_gene_id", "ensembl gene id", "ensembl id(supplied by ensembl)",
        "ensembl id (supplied by ensembl)",
    ),
}
"""Our field -> the header names HGNC has used for it (compared case-insensitively)."""

_REQUIRED = ("hgnc_id", "symbol")
_LIST_SPLIT = re.compile(r"\s*[|,]\s*")


def _header_map(path: Path, context: LoadContext | None) -> tuple[dict[str, str], list[str]]:
    """Map our field names to the file's header cells (first line)."""
    for _, text in iter_lines(path, context):
        header = [h.strip().strip('"') for h in text.split("\t")]
        break
    else:
        raise LoadError(path, "the file is empty", line=1, hint="expected the HGNC header row")
    lowered = {h.lower(): h for h in header}
    found = {field: next((lowered[n] for n in names if n in lowered), "") for field, names in COLUMNS.items()}
    missing = [f for f in _REQUIRED if not found[f]]
    if missing:
        shown = ", ".join(header[:8]) + (" ..." if len(header) > 8 else "")
        raise LoadError(
            path,
            f"missing HGNC column(s) {', '.join(COLUMNS[m][0] for m in missing)}; columns found: {shown}",
            line=1,
            hint="expected HGNC's tab-separated complete set or a custom download with 'HGNC ID' and 'Approved symbol'",
        )
    return {k: v for k, v in found.items() if v}, header


def _split_list(value: str) -> tuple[str, ...]:
    value = value.strip().strip('"')
    if not value:
        return ()
    return tuple(dict.fromkeys(p for p in _LIST_SPLIT.split(value) if p))


def read_hgnc(path: Path, context: LoadContext | None = None, report: LoadReport | None = None) -> Iterator[GeneRecord]:
    """Yield one ``GeneRecord`` per data row of an HGNC file; bad rows are rejected into ``report``."""
    columns, header = _header_map(path, context)
    index = {field: header.index(col) for field, col in columns.items()}
    seen_entrez: dict[str, int] = {}
    longer = 0
    for row in _rows(path, context):
        if report is not None:
            report.records_read += 1
        if len(row.cells) > len(header):
            longer += 1
        cells = {field: (row.cells[i].strip() if i < len(row.cells) else "") for field, i in index.items()}
        try:
            hgnc = normalise_hgnc(cells["hgnc_id"])
        except ValueError:
            _reject(report, path, f"not an HGNC id: {cells['hgnc_id']!r}", row.line, "hgnc_id")
            continue
        symbol = cells["symbol"]
        status = cells.get("status") or "Approved"
        if symbol.endswith("~withdrawn"):
            symbol = symbol[: -len("~withdrawn")]
            if "withdrawn" not in status.lower():
                status = "Entry Withdrawn"
        if not symbol:
            _reject(report, path, "no approved symbol", row.line, columns["symbol"])
            continue
        entrez = cells.get("entrez", "")
        if entrez and not entrez.isdigit():
            _reject(report, path, f"NCBI Gene id {entrez!r} is not a number", row.line, columns["entrez"])
            continue
        if entrez and entrez in seen_entrez:
            _reject(report, path, f"NCBI Gene id {entrez} already given on line {seen_entrez[entrez]}", row.line, columns["entrez"])
            continue
        if entrez:
            seen_entrez[entrez] = row.line
        elif report is not None and "withdrawn" not in status.lower():
            report.unmapped_id("ncbigene", f"HGNC:{hgnc}")
        ensembl = cells.get("ensembl", "")
        if ensembl:
            try:
                ensembl = normalise_ensembl(ensembl)
            except ValueError:
                _reject(report, path, f"not an Ensembl gene id: {ensembl!r}", row.line, columns["ensembl"])
                continue
        yield GeneRecord(
            ncbi_id=entrez or None,
            hgnc_id=f"HGNC:{hgnc}",
            symbol=symbol,
            name=cells.get("name", ""),
            locus_type=cells.get("locus_type", ""),
            status=status,
            aliases=_split_list(cells.get("aliases", "")),
            previous_symbols=_split_list(cells.get("previous", "")),
            ensembl_id=ensembl or None,
        )
    if longer and report is not None:
        report.note(
            f"{longer} rows have more cells than the header (columns added by a newer HGNC release); "
            "the unnamed extra cells were ignored"
        )


@dataclass(frozen=True)
class _Row:
    line: int
    cells: list[str]


def _rows(path: Path, context: LoadContext | None) -> Iterator[_Row]:
    """Data rows as cell lists with line numbers (quoted cells unquoted; ragged rows as they are).

    HGNC rows may be shorter than the header (trailing empty cells dropped) or, when a
    release appends columns, longer; cells are matched to the header by position.
    """
    width = 0
    rows = 0
    for record in iter_records(path, context, delimiter="\t"):
        if not width:
            width = len(record.cells)
            continue
        if any(c.strip() for c in record.cells):
            truncated = cut_short(path, record, len(record.cells), width)
            if truncated is not None:
                raise truncated
            rows += 1
            yield _Row(record.line, record.cells)
    if not rows:
        raise no_data_rows(path, 2)


def _reject(report: LoadReport | None, path: Path, reason: str, line: int, field: str) -> None:
    if report is None:
        raise LoadError(path, reason, line=line, field=field, hint="fix or remove this row")
    report.reject(reason, line=line, field=field)


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield the triples of every gene in an HGNC file."""
    for record in read_hgnc(path, context, report):
        yield from gene_triples(record)
    if "ncbigene" in report.unmapped:
        report.note(f"{len(report.unmapped['ncbigene'])} HGNC genes have no NCBI Gene id; their HGNC IRI is their node")


LOADER = Loader(
    kind="hgnc",
    description="HGNC gene set TSV (hgnc_complete_set.txt or a custom download): genes with symbols, aliases, NCBI Gene and Ensembl ids",
    parse=parse,
    patterns=("hgnc_complete_set*.txt", "hgnc_complete_set*.tsv", "hgnc_complete_set*.txt.gz", "*hgnc*set*.txt", "*hgnc*set*.tsv"),
    version="1",
)
