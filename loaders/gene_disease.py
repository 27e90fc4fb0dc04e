"""Gene-disease association files -> reified ``igkg:GeneDiseaseAssociation`` links.

Two published layouts, told apart by their header row (the format's own declaration):

**ClinVar ``gene_condition_source_id``** (ftp.ncbi.nlm.nih.gov/pub/clinvar/gene_condition_source_id,
public domain; columns documented in ClinVar's FTP README,
https://ftp.ncbi.nlm.nih.gov/pub/clinvar/README.txt, section "gene_condition_source_id",
mirrored e.g. at https://gist.github.com/elucify/e7aeababac92fa9f4070): tab-separated,
header ``#GeneID AssociatedGenes RelatedGenes ConceptID DiseaseName SourceName SourceID
DiseaseMIM LastUpdated``. ``AssociatedGenes`` holds the symbol when a gene-disease
relationship is asserted, ``RelatedGenes`` when the gene is only related by location
(e.g. it lies in a deleted region). ``ConceptID`` is a MedGen concept: a UMLS CUI when it is
``C`` followed by digits, an NCBI-made concept when it starts with ``CN`` (same README).
Older releases wrote ``#GeneID Symbol ConceptID DiseaseName SourceName SourceID
DiseaseMIM LastModified`` (as e.g. text2gene/medgen-mysql loads it); both are read.

**DisGeNET gene-disease associations TSV** (``curated_gene_disease_associations.tsv``,
disgenet.org/downloads): ``geneId geneSymbol DSI DPI diseaseId diseaseName diseaseType
diseaseClass diseaseSemanticType score EI YearInitial YearFinal NofPmids NofSnps source``;
``diseaseId`` is a UMLS CUI.

Genes are given by NCBI Gene id, so their NCBI Gene IRI is standard and used directly;
the disease node is the UMLS CUI IRI (``http://identifiers.org/umls/C...``) or, for
``CN`` concepts, the MedGen IRI, typed ``igkg:Disease`` with its name and, for ClinVar,
``skos:exactMatch`` to the OMIM entry in ``DiseaseMIM``. Each link is an
``igkg:GeneDiseaseAssociation`` with ``igkg:gene``, ``igkg:disease``, ``igkg:evidence``
and ``dct:source``, plus the shortcut ``gene igkg:associatedWithDisease disease``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.core.errors import LoadError
from kg.core.namespaces import DCT, IGKG, MEDGEN, OMIM, RDF, RDFS, SKOS, UMLS
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_lines, iter_table
from loaders._genes import gene_iri

__all__ = ["LAYOUTS", "LOADER", "disease_iri"]

logger = logging.getLogger(__name__)

LAYOUTS: dict[str, tuple[str, ...]] = {
    "clinvar": ("GeneID", "AssociatedGenes", "RelatedGenes", "ConceptID", "DiseaseName", "SourceName", "SourceID", "DiseaseMIM", "LastUpdated"),
    "clinvar-old": ("GeneID", "Symbol", "ConceptID", "DiseaseName", "SourceName", "SourceID", "DiseaseMIM", "LastModified"),
    "disgenet": ("geneId", "geneSymbol", "diseaseId", "diseaseName", "score", "source"),
}
"""Layout name -> the header columns that identify it (and that its rows need)."""

_CUI = re.compile(r"^C\d{7}$")
_MEDGEN = re.compile(r"^CN\d+$")


def disease_iri(concept: str) -> URIRef | None:
    """The IRI of a MedGen concept id: UMLS for ``C1234567``, MedGen for ``CN...``.

    >>> disease_iri("C0033770")
    rdflib.term.URIRef('http://identifiers.org/umls/C0033770')
    >>> disease_iri("CN028867")
    rdflib.term.URIRef('http://identifiers.org/medgen/CN028867')
    """
    concept = concept.strip()
    if _CUI.match(concept):
        return UMLS[concept]
    if _MEDGEN.match(concept):
        return MEDGEN[concept]
    return None


def _layout(path: Path, context: LoadContext) -> tuple[str, list[str]]:
    for _, text in iter_lines(path, context):
        header = [h.strip().lstrip("#") for h in text.split("\t")]
        break
    else:
        raise LoadError(path, "the file is empty", line=1, hint="expected a header row")
    for name, columns in LAYOUTS.items():
        if all(c in header for c in columns):
            return name, header
    shown = ", ".join(header[:8]) + (" ..." if len(header) > 8 else "")
    raise LoadError(
        path,
        f"not a known gene-disease layout; columns found: {shown}",
        line=1,
        hint="expected ClinVar gene_condition_source_id (#GeneID AssociatedGenes RelatedGenes ConceptID ...) "
        "or DisGeNET (geneId geneSymbol ... diseaseId ...), tab-separated",
    )


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one reified association (and its shortcut edge) per row."""
    layout, _ = _layout(path, context)
    report.note(f"layout {layout}")
    source = "ClinVar gene_condition_source_id" if layout.startswith("clinvar") else "DisGeNET"
    described: set[URIRef] = set()
    for row in iter_table(path, context):
        cells = {k.lstrip("#"): v.strip() for k, v in row.cells.items()}
        report.records_read += 1
        if layout.startswith("clinvar"):
            gene_id, concept, name = cells["GeneID"], cells["ConceptID"], cells["DiseaseName"]
            if layout == "clinvar":
                symbol = cells["AssociatedGenes"] or cells["RelatedGenes"]
                evidence = "asserted gene-disease relationship (AssociatedGenes)" if cells["AssociatedGenes"] else "gene related by location (RelatedGenes)"
            else:
                symbol, evidence = cells["Symbol"], "asserted gene-disease relationship"
            origin = " ".join(x for x in (cells["SourceName"], cells["SourceID"]) if x)
            mim = cells["DiseaseMIM"]
            updated = cells.get("LastUpdated") or cells.get("LastModified", "")
        else:
            gene_id, concept, name, symbol = cells["geneId"], cells["diseaseId"], cells["diseaseName"], cells["geneSymbol"]
            evidence = f"DisGeNET score {cells['score']}" + (f", evidence index {cells['EI']}" if cells.get("EI") else "")
            origin, mim, updated = cells["source"], "", cells.get("YearFinal", "")
        if not gene_id.isdigit():
            report.reject(f"gene id {gene_id!r} is not an NCBI Gene id", line=row.line, field="GeneID")
            continue
        disease = disease_iri(concept)
        if disease is None:
            report.reject(f"concept {concept!r} is neither a UMLS CUI nor a MedGen CN id", line=row.line, field="ConceptID")
            report.unmapped_id("disease", concept)
            continue
        gene = gene_iri(gene_id)
        if gene not in described:
            described.add(gene)
            yield gene, RDF.type, IGKG.Gene
            if symbol and context.option("label_genes", False):
                yield gene, RDFS.label, Literal(symbol)
        if disease not in described:
            described.add(disease)
            yield disease, RDF.type, IGKG.Disease
            if name:
                yield disease, RDFS.label, Literal(name)
            if mim.isdigit():
                yield disease, SKOS.exactMatch, OMIM[mim]
        node = context.mint("gene-disease", "clinvar" if layout.startswith("clinvar") else "disgenet", gene_id, concept)
        yield node, RDF.type, IGKG.GeneDiseaseAssociation
        yield node, IGKG.gene, gene
        yield node, IGKG.disease, disease
        yield node, IGKG.evidence, Literal(evidence)
        yield node, DCT.source, Literal(f"{source}: {origin}" if origin else source)
        if symbol:
            yield node, RDFS.label, Literal(f"{symbol} - {name}" if name else symbol)
        if re.match(r"^\d{4}-\d{2}-\d{2}$", updated):
            yield node, DCT.modified, Literal(updated, datatype=XSD.date)
        yield gene, IGKG.associatedWithDisease, disease


LOADER = Loader(
    kind="gene-disease",
    description="Gene-disease associations: ClinVar gene_condition_source_id or DisGeNET TSV, reified with evidence and source",
    parse=parse,
    patterns=("gene_condition_source_id*", "*gene_disease_associations*.tsv", "*gene_disease_associations*.tsv.gz"),
    version="1",
    options=("label_genes",),
)
