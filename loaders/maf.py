"""Somatic mutations in MAF (Mutation Annotation Format) -> ``igkg:MutationObservation``.

MAF as the GDC documents it (docs.gdc.cancer.gov/Data/File_Formats/MAF_Format, "GDC MAF
Format v.1.0.0", built on the TCGA MAF 2.4 specification): tab-separated, ``#``-comment
lines first (``#version gdc-1.0.0``), a header row, one variant per row. Columns read:
``Hugo_Symbol``, ``Entrez_Gene_Id`` (0 when there is none), ``Tumor_Sample_Barcode``,
``Variant_Classification``, ``HGVSp_Short`` and, to identify a variant, ``Chromosome``,
``Start_Position``, ``Reference_Allele``, ``Tumor_Seq_Allele2`` when present.

Genes: a non-zero Entrez id gives the standard NCBI Gene IRI (through the resolver when it
knows the gene); otherwise the symbol goes through the resolver; an unmapped symbol is
reported and kept as ``igkg:geneIdentifier`` text. Samples become subjects by
``sample_rule`` (``tcga`` barcode -> patient; default ``identity``). A
``Variant_Classification`` outside the specification is a reported rejection.

Option ``marker_genes`` (comma-separated symbols) also states, for every subject in the
file, a ``<GENE> mutation status`` marker: Mutant when it has a protein-altering variant of
the gene (not Silent, UTR, flank, intron, IGR or RNA), else Wildtype -- a MAF lists only
what was found in the samples it covers, so a subject absent from the file gets nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG
from loaders import _shapes as model
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_table
from loaders.expression import sample_rule
from loaders._genes import gene_iri, resolver_for

__all__ = ["LOADER", "NON_SILENT", "VARIANT_CLASSIFICATIONS"]

logger = logging.getLogger(__name__)

VARIANT_CLASSIFICATIONS = frozenset({
    "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins", "Missense_Mutation", "Nonsense_Mutation",
    "Silent", "Splice_Site", "Translation_Start_Site", "Nonstop_Mutation", "3'UTR", "3'Flank", "5'UTR", "5'Flank",
    "IGR", "Intron", "RNA", "Targeted_Region", "Splice_Region", "De_novo_Start_InFrame", "De_novo_Start_OutOfFrame",
    "Start_Codon_SNP", "Start_Codon_Del", "Start_Codon_Ins", "Stop_Codon_Del", "Stop_Codon_Ins",
})
"""Variant_Classification values of the TCGA MAF 2.4 specification and the GDC/VEP additions."""

NON_SILENT = frozenset({
    "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins", "Missense_Mutation", "Nonsense_Mutation",
    "Splice_Site", "Translation_Start_Site", "Nonstop_Mutation", "De_novo_Start_OutOfFrame", "Start_Codon_SNP",
    "Start_Codon_Del", "Start_Codon_Ins", "Stop_Codon_Del", "Stop_Codon_Ins",
})
"""Classifications that alter the protein: they make a gene's marker status Mutant."""

_REQUIRED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification")


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one mutation observation per MAF row (and marker statuses when asked)."""
    to_subject = sample_rule(str(context.option("sample_rule", "identity")))
    resolver = resolver_for(context, report)
    wanted = [g.strip().upper() for g in str(context.option("marker_genes", "") or "").split(",") if g.strip()]
    shared: list[Triple] = []
    cohort_name = context.option("cohort")
    cohort_node = model.cohort(context, str(cohort_name), shared) if cohort_name else None
    yield from shared
    genes: dict[tuple[str, str], URIRef | None] = {}
    subjects: dict[str, URIRef] = {}
    mutated: dict[str, set[str]] = defaultdict(set)
    seen: dict[tuple[str, ...], int] = {}
    for row in iter_table(path, context, delimiter="\t", required=_REQUIRED, comment="#"):
        report.records_read += 1
        cells = row.cells
        symbol = cells["Hugo_Symbol"].strip()
        sample = cells["Tumor_Sample_Barcode"].strip()
        classification = cells["Variant_Classification"].strip()
        if not sample:
            report.reject("no Tumor_Sample_Barcode", line=row.line)
            continue
        if classification not in VARIANT_CLASSIFICATIONS:
            report.reject(f"Variant_Classification {classification!r} is not in the MAF specification", line=row.line, field="Variant_Classification")
            continue
        subject_id = to_subject(sample)
        if subject_id is None:
            report.reject(f"sample {sample!r} matches no subject under sample_rule", line=row.line, record=sample)
            continue
        entrez = cells.get("Entrez_Gene_Id", "").strip()
        gene = _gene(resolver, report, symbol, entrez, genes)
        triples: list[Triple] = []
        if subject_id not in subjects:
            subjects[subject_id] = model.subject(context, subject_id, triples, cohort_node=cohort_node)
        key = tuple(cells.get(c, "").strip() for c in ("Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2"))
        identity = (sample, symbol, *key) if any(key) else (sample, symbol, str(row.line))
        if identity in seen:
            raise LoadError(path, f"the same variant appears again (first on line {seen[identity]})", line=row.line, record=sample,
                            hint="a MAF has one row per variant and sample")
        seen[identity] = row.line
        node = context.mint("mutation", path.name, *identity)
        triples += [
            (node, RDF.type, IGKG.MutationObservation),
            (node, IGKG.subject, subjects[subject_id]),
            (node, IGKG.sample, Literal(sample)),
            (node, IGKG.geneIdentifier, Literal(symbol or entrez)),
            (node, IGKG.variantClassification, Literal(classification)),
        ]
        if gene is not None:
            triples += [(node, IGKG.gene, gene), (gene, RDF.type, IGKG.Gene)]
        protein = cells.get("HGVSp_Short", "").strip()
        if protein and protein != ".":
            triples.append((node, IGKG.proteinChange, Literal(protein)))
        if classification in NON_SILENT:
            mutated[subject_id].add(symbol.upper())
        yield from triples
    if wanted:
        yield from _marker_statuses(path, context, report, wanted, subjects, mutated, resolver)
    if context.columnar:
        _write_markers(context, report, subjects, mutated, genes, wanted)


def _write_markers(
    context: LoadContext, report: LoadReport, subjects: dict[str, URIRef], mutated: dict[str, set[str]],
    genes: dict[tuple[str, str], URIRef | None], wanted: list[str],
) -> None:
    """The markers matrix: ``<SYMBOL> mutation status`` = 1 (a non-silent mutation) or 0, for every
    gene with a non-silent mutation in the file and every subject of the file."""
    symbols = sorted({s for found in mutated.values() for s in found if s and s != "UNKNOWN"} | set(wanted))
    if not symbols or not subjects:
        return
    gene_of = {symbol.upper(): node for (symbol, _), node in genes.items() if node is not None}
    scratch: list[Triple] = []
    iris = {
        f"{s} mutation status": str(model.marker(context, f"{s} mutation status", scratch, gene=gene_of.get(s))
                                    if s in wanted else (gene_of.get(s) or ""))
        for s in symbols
    }
    values = np.zeros((len(subjects), len(symbols)))
    column = {s: j for j, s in enumerate(symbols)}
    for i, subject_id in enumerate(subjects):
        for s in mutated.get(subject_id, ()):
            if s in column:
                values[i, column[s]] = 1.0
    frame = pd.DataFrame(values, columns=list(iris))
    frame.insert(0, "subject", [str(node) for node in subjects.values()])
    context.matrix("markers", kind="markers", variables=iris).write(frame)
    report.note(f"markers matrix: {len(symbols)} genes x {len(subjects)} subjects (1 = a non-silent mutation)")


def _gene(resolver: object, report: LoadReport, symbol: str, entrez: str, cache: dict[tuple[str, str], URIRef | None]) -> URIRef | None:
    key = (symbol, entrez)
    if key in cache:
        return cache[key]
    node: URIRef | None = None
    if entrez.isdigit() and entrez != "0":
        result = resolver.resolve(entrez, "entrez")  # type: ignore[attr-defined]
        node = result.gene if result.ok else gene_iri(entrez)
        if not result.ok:
            report.unmapped_id("gene", entrez)
    elif symbol and symbol != "Unknown":
        result = resolver.resolve(symbol)  # type: ignore[attr-defined]
        if result.ok:
            node = result.gene
        else:
            report.unmapped_id({"unmapped": "gene", "ambiguous": "gene-ambiguous", "withdrawn": "gene-withdrawn"}[result.status], symbol)
    cache[key] = node
    return node


def _marker_statuses(
    path: Path, context: LoadContext, report: LoadReport, wanted: list[str], subjects: dict[str, URIRef],
    mutated: dict[str, set[str]], resolver: object,
) -> Iterator[Triple]:
    triples: list[Triple] = []
    for symbol in wanted:
        result = resolver.resolve(symbol)  # type: ignore[attr-defined]
        node = model.marker(context, f"{symbol} mutation status", triples, gene=result.gene if result.ok else None)
        for subject_id, subject_node in subjects.items():
            status = "Mutant" if symbol in mutated.get(subject_id, set()) else "Wildtype"
            model.marker_status(
                context, triples, source_key=path.name, subject_node=subject_node, subject_id=subject_id,
                marker_node=node, status=status, value=1.0 if status == "Mutant" else 0.0,
            )
    report.note(f"marker statuses for {', '.join(wanted)} over the {len(subjects)} subjects in this file")
    yield from triples


LOADER = Loader(
    kind="maf",
    description="Somatic mutations in MAF (GDC/TCGA): one observation per variant; option marker_genes for mutation-status markers",
    parse=parse,
    patterns=("*.maf", "*.maf.gz", "*.maf.txt"),
    version="1",
    options=("sample_rule", "marker_genes", "cohort"),
)
