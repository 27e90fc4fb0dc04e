"""NCBI ``gene_info`` files (``Homo_sapiens.gene_info.gz``, ``All_Data.gene_info.gz``) -> genes.

Layout as documented in NCBI's ``gene/README`` (ftp.ncbi.nlm.nih.gov/gene/README):
tab-separated, one line per GeneID, header line first (``#tax_id GeneID Symbol LocusTag
Synonyms dbXrefs chromosome map_location description type_of_gene
Symbol_from_nomenclature_authority Full_name_from_nomenclature_authority
Nomenclature_status Other_designations Modification_date Feature_type``), ``-`` for
none, bar-delimited ``Synonyms`` and ``dbXrefs`` (``HGNC:HGNC:3236``,
``Ensembl:ENSG00000146648``, ``MIM:131550``). Old releases start with a ``#Format:``
line listing the columns separated by spaces; both are read.

Only one taxon is kept (option ``taxon``, default ``9606``; ``all`` keeps every row),
so that a mouse ``Egfr`` never lands in the human gene resolver.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from kg.core.errors import LoadError
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import cut_short, no_data_rows, read_lines
from loaders._genes import GeneRecord, gene_triples, normalise_ensembl, normalise_hgnc

__all__ = ["LOADER", "read_gene_info"]

logger = logging.getLogger(__name__)

_REQUIRED = ("tax_id", "GeneID", "Symbol")


def _none(value: str) -> str:
    value = value.strip()
    return "" if value == "-" else value


def _bar(value: str) -> tuple[str, ...]:
    value = _none(value)
    return tuple(dict.fromkeys(p.strip() for p in value.split("|") if p.strip())) if value else ()


def _parse_header(path: Path, text: str) -> list[str]:
    if text.startswith("#Format:"):
        names = text[len("#Format:"):].split("(", 1)[0].split()
    else:
        names = [h.strip() for h in text.lstrip("#").split("\t")]
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise LoadError(
            path,
            f"missing gene_info column(s) {', '.join(missing)}; columns found: {shown}",
            line=1,
            hint="expected NCBI's tab-separated gene_info with its '#tax_id' header line",
        )
    return names


def read_gene_info(path: Path, context: LoadContext | None = None, report: LoadReport | None = None) -> Iterator[GeneRecord]:
    """Yield one ``GeneRecord`` per row of the chosen taxon."""
    taxon = str(context.option("taxon", "9606")) if context is not None else "9606"
    header: list[str] | None = None
    kept = rows = 0
    for line in read_lines(path, context):
        lineno, text = line.number, line.text
        if header is None:
            header = _parse_header(path, text)
            continue
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        truncated = cut_short(path, line, len(cells), len(header))
        if truncated is not None:
            raise truncated
        if len(cells) != len(header):
            raise LoadError(
                path,
                f"{len(cells)} tab-separated cells but the header has {len(header)} columns",
                line=lineno,
                hint="gene_info rows are tab-separated; check the file is not truncated or re-saved",
            )
        rows += 1
        row = dict(zip(header, cells, strict=True))
        if report is not None:
            report.records_read += 1
        if taxon != "all" and row["tax_id"].strip() != taxon:
            continue
        gene_id = row["GeneID"].strip()
        if not gene_id.isdigit():
            if report is None:
                raise LoadError(path, f"GeneID {gene_id!r} is not a number", line=lineno, field="GeneID", hint="GeneID holds NCBI Gene ids")
            report.reject(f"GeneID {gene_id!r} is not a number", line=lineno, field="GeneID")
            continue
        hgnc = ensembl = None
        for xref in _bar(row.get("dbXrefs", "")):
            db, _, value = xref.partition(":")
            try:
                if db == "HGNC" and hgnc is None:
                    hgnc = f"HGNC:{normalise_hgnc(value)}"
                elif db == "Ensembl" and ensembl is None:
                    ensembl = normalise_ensembl(value)
            except ValueError:
                if report is not None:
                    report.reject(f"malformed dbXref {xref!r} ignored", line=lineno, field="dbXrefs")
        official = _none(row.get("Symbol_from_nomenclature_authority", ""))
        symbol = official or _none(row["Symbol"])
        aliases = tuple(a for a in _bar(row.get("Synonyms", "")) + (_none(row["Symbol"]),) if a and a != symbol)
        status = {"O": "Approved", "I": "Interim"}.get(_none(row.get("Nomenclature_status", "")), "Approved")
        kept += 1
        yield GeneRecord(
            ncbi_id=gene_id,
            hgnc_id=hgnc,
            symbol=symbol,
            name=_none(row.get("Full_name_from_nomenclature_authority", "")) or _none(row.get("description", "")),
            locus_type=_none(row.get("type_of_gene", "")),
            status=status,
            aliases=tuple(dict.fromkeys(aliases)),
            ensembl_id=ensembl,
        )
    if header is None:
        raise LoadError(path, "the file is empty", line=1, hint="expected the '#tax_id' header line")
    if not rows:
        raise no_data_rows(path, 2)
    if report is not None and kept == 0 and report.records_read:
        report.note(f"no row has tax_id {taxon}; give --taxon (e.g. 10090) or --taxon all")


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield the triples of every gene of the chosen taxon."""
    for record in read_gene_info(path, context, report):
        yield from gene_triples(record)


LOADER = Loader(
    kind="gene-info",
    description="NCBI gene_info (gzip or not): genes by NCBI Gene id with symbols, synonyms, HGNC and Ensembl xrefs (option taxon, default 9606)",
    parse=parse,
    patterns=("*gene_info", "*gene_info.gz", "*.gene_info.txt", "*gene_info.tsv"),
    version="1",
    options=("taxon",),
)
