"""Gene ranges (PLINK's glist layout, GTF, GFF3) and the interval join variants -> genes.

Coordinates are 1-based and inclusive in all three layouts. Every range set carries its genome build;
joining variants of one build to genes of another is an error, never a silent mismatch.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import GenotypeError, normalise_build, normalise_chrom

__all__ = ["BuildMismatchError", "GeneRanges", "read_gene_ranges", "variants_to_genes"]

log = logging.getLogger(__name__)

GENE_COLUMNS = ("chrom", "start", "end", "symbol", "gene_id")
JOIN_COLUMNS = ("variant", "chrom", "pos", "symbol", "gene_id", "start", "end", "distance")
_BUILD_IN_NAME = re.compile(r"(GRCh3[78]|hg19|hg38|hg18|b37|b38)", re.IGNORECASE)
_FORMATS = {".gtf": "gtf", ".gtf.gz": "gtf", ".gff3": "gff3", ".gff": "gff3", ".gff3.gz": "gff3", ".gff.gz": "gff3"}


class BuildMismatchError(ValueError):
    """Variants and gene ranges (or a file and its stated build) are on different genome builds."""


@dataclass(frozen=True)
class GeneRanges:
    """Gene ranges of one build: ``table`` has chrom, start, end (1-based, inclusive), symbol, gene_id."""

    table: pd.DataFrame
    build: str
    path: Path
    layout: str  # glist, gtf or gff3


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _format_for(path: Path, layout: str | None) -> str:
    if layout is not None:
        if layout not in {"glist", "gtf", "gff3"}:
            raise ValueError(f"layout must be 'glist', 'gtf' or 'gff3', not {layout!r}")
        return layout
    name = path.name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    return "glist"


def _read_glist(path: Path) -> pd.DataFrame:
    hint = "a glist file has four whitespace-separated fields: chromosome, start, end, symbol"
    rows = []
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 4:
                raise GenotypeError(path, f"{len(fields)} fields where 4 are expected", line=number, hint=hint)
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise GenotypeError(path, f"start/end {fields[1]!r}/{fields[2]!r} are not integers",
                                    line=number, hint=hint) from None
            if end < start:
                raise GenotypeError(path, f"end {end} before start {start}", line=number, hint=hint)
            rows.append((fields[0], start, end, fields[3], fields[3]))
    return pd.DataFrame(rows, columns=list(GENE_COLUMNS))


def _attributes(text: str, gtf: bool) -> dict[str, str]:
    out = {}
    if gtf:
        for part in text.strip().split(";"):
            part = part.strip()
            if part:
                key, _, value = part.partition(" ")
                out[key] = value.strip().strip('"')
    else:
        for part in text.strip().split(";"):
            key, sep, value = part.partition("=")
            if sep:
                out[key.strip()] = value.strip()
    return out


def _read_gtf_gff(path: Path, gtf: bool, feature_types: frozenset[str]) -> tuple[pd.DataFrame, str | None]:
    hint = "a GTF/GFF3 line has nine tab-separated fields"
    rows = []
    stated = None
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#"):
                if "genome-build" in line and stated is None:
                    found = _BUILD_IN_NAME.search(line)
                    if found:
                        stated = normalise_build(found.group(1))
                continue
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 9:
                raise GenotypeError(path, f"{len(fields)} fields where 9 are expected", line=number, hint=hint)
            if fields[2] not in feature_types:
                continue
            attrs = _attributes(fields[8], gtf)
            gene_id = attrs.get("gene_id") or attrs.get("ID", "").removeprefix("gene:")
            symbol = attrs.get("gene_name") or attrs.get("Name") or gene_id
            try:
                start, end = int(fields[3]), int(fields[4])
            except ValueError:
                raise GenotypeError(path, f"start/end {fields[3]!r}/{fields[4]!r} are not integers",
                                    line=number, hint=hint) from None
            rows.append((fields[0], start, end, symbol, gene_id))
    return pd.DataFrame(rows, columns=list(GENE_COLUMNS)), stated


def read_gene_ranges(
    path: str | Path,
    *,
    build: str | None = None,
    layout: str | None = None,
    feature_types: tuple[str, ...] = ("gene",),
) -> GeneRanges:
    """Read gene ranges: ``layout`` ``glist`` (chromosome, start, end, symbol), ``gtf`` or ``gff3``; by default
    from the suffix (``.gtf``, ``.gff3``/``.gff``, optionally ``.gz``; anything else is glist).

    The build is ``build``, else the one the file states (``#!genome-build``), else one named in the file
    name (``glist-hg19``); a header or file name naming another build than ``build`` is an error.

    :raises GenotypeError: a malformed line (named), or no build known.
    :raises BuildMismatchError: ``build`` disagrees with the build the file states or its name says.
    """
    path = Path(path)
    if not path.is_file():
        raise GenotypeError(path, "file not found", hint="give a glist, GTF or GFF3 gene-range file")
    fmt = _format_for(path, layout)
    stated = None
    if fmt == "glist":
        table = _read_glist(path)
    else:
        table, stated = _read_gtf_gff(path, fmt == "gtf", frozenset(feature_types))
    wanted = normalise_build(build)
    if wanted and stated and wanted != stated:
        raise BuildMismatchError(f"{path}: the file states genome build {stated} but build={build!r} was given")
    from_name = _BUILD_IN_NAME.search(path.name)
    named = normalise_build(from_name.group(1)) if from_name else None
    if wanted and named and wanted != named:
        raise BuildMismatchError(f"{path}: the file name says {from_name.group(1) if from_name else ''} "
                                 f"({named}) but build={build!r} was given; rename the file if the name is wrong")
    chosen = wanted or stated or named
    if chosen is None:
        raise GenotypeError(path, "genome build unknown", hint="give build='GRCh37' or 'GRCh38'")
    if not wanted:
        log.info("%s: genome build %s taken from the %s", path, chosen, "header" if stated else "file name")
    table["chrom"] = table["chrom"].map(normalise_chrom)
    table = table.astype({"start": np.int64, "end": np.int64})
    return GeneRanges(table=table.reset_index(drop=True), build=chosen, path=path, layout=fmt)


def variants_to_genes(
    variants: pd.DataFrame, genes: GeneRanges, *, build: str | None, window: int = 0
) -> pd.DataFrame:
    """Pairs (variant, gene) where the variant lies in the gene or within ``window`` bp of it.

    ``variants`` has id, chrom, pos (a genotype source's variant table); ``build`` is their genome build.
    Returns columns variant, chrom, pos, symbol, gene_id, start, end, distance (0 inside the gene, else bp
    to the nearer end), ordered as the variants then by gene start; one row per variant and gene (a gene
    with several ranges keeps its nearest).

    :raises BuildMismatchError: ``build`` is unknown (None) or differs from ``genes.build``.
    """
    if window < 0:
        raise ValueError("window must be >= 0 bp")
    if build is None:
        raise BuildMismatchError(f"the variants' genome build is unknown; genes are {genes.build}: "
                                 "state the genotype build (e.g. build='GRCh37')")
    if normalise_build(build) != genes.build:
        raise BuildMismatchError(f"variants are on {normalise_build(build)} but the gene ranges "
                                 f"({genes.path.name}) are on {genes.build}; lift one over first")
    chroms = variants["chrom"].map(normalise_chrom).to_numpy()
    positions = variants["pos"].to_numpy(np.int64)
    table = genes.table
    parts = []
    for chrom, gene_rows in table.groupby("chrom", sort=False):
        on_chrom = np.flatnonzero(chroms == chrom)
        if not len(on_chrom):
            continue
        order = on_chrom[np.argsort(positions[on_chrom], kind="stable")]
        sorted_pos = positions[order]
        starts = gene_rows["start"].to_numpy(np.int64)
        ends = gene_rows["end"].to_numpy(np.int64)
        lo = np.searchsorted(sorted_pos, starts - window, side="left")
        hi = np.searchsorted(sorted_pos, ends + window, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if not total:
            continue
        gene_index = np.repeat(np.arange(len(gene_rows)), counts)
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        variant_index = order[np.repeat(lo, counts) + within]
        parts.append((variant_index, gene_rows.index.to_numpy()[gene_index]))
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype=object if column in {"variant", "chrom", "symbol", "gene_id"}
                                               else np.int64) for column in JOIN_COLUMNS})
    variant_index = np.concatenate([p[0] for p in parts])
    gene_index = np.concatenate([p[1] for p in parts])
    pos = positions[variant_index]
    start = table["start"].to_numpy()[gene_index]
    end = table["end"].to_numpy()[gene_index]
    distance = np.where(pos < start, start - pos, np.where(pos > end, pos - end, 0))
    out = pd.DataFrame({
        "variant": variants["id"].to_numpy()[variant_index],
        "chrom": chroms[variant_index],
        "pos": pos,
        "symbol": table["symbol"].to_numpy()[gene_index],
        "gene_id": table["gene_id"].to_numpy()[gene_index],
        "start": start,
        "end": end,
        "distance": distance.astype(np.int64),
        "_v": variant_index,
    })
    # a gene listed with several ranges (glist repeats some symbols) links once, by its nearest range
    out = out.sort_values(["_v", "distance", "start"], kind="stable").drop_duplicates(["_v", "symbol", "gene_id"])
    return out.sort_values(["_v", "start", "symbol"], kind="stable").drop(columns="_v").reset_index(drop=True)
