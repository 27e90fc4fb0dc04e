"""Kind ``gwas-catalog``: the NHGRI-EBI GWAS Catalog association download -> variant-trait associations.

The file is the catalog's ``gwas_catalog_v1.0.2-associations_e<ensembl>_r<date>.tsv`` (tab-separated,
one header row; the columns of https://www.ebi.ac.uk/gwas/docs/fileheaders). Used columns:
``SNPS``, ``MAPPED_TRAIT``, ``MAPPED_TRAIT_URI``, ``P-VALUE``, ``PUBMEDID`` (required) and
``MAPPED_GENE``, ``OR or BETA``, ``95% CI (TEXT)``, ``STRONGEST SNP-RISK ALLELE``,
``RISK ALLELE FREQUENCY``, ``STUDY ACCESSION``, ``CHR_ID``, ``CHR_POS``, ``DISEASE/TRAIT``.

Per row and mapped trait, one ``igkg:VariantTraitAssociation``: ``igkg:trait`` the EFO (or MONDO,
HP, Orphanet ...) IRI exactly as ``MAPPED_TRAIT_URI`` gives it, ``igkg:variant`` the variant (its
dbSNP IRI; ``CHR_ID``/``CHR_POS`` on GRCh38, the catalog's build), ``igkg:gene`` each mapped gene
the store's gene resolver knows (the variant also gets ``igkg:nearGene`` to it), ``igkg:pValue``,
``igkg:effectSize`` (the OR, or the beta signed by the CI text's "increase"/"decrease"),
``igkg:effectAllele`` (the risk allele, when not ``?``), ``igkg:effectAlleleFrequency``, and its
provenance: ``dct:source`` the PubMed IRI, ``igkg:publication`` the PMID text, ``dct:isPartOf``
the catalog study page. When the trait label is an imaging-derived measure
(``loaders._variants.is_imaging_trait``: brain, cortical, subcortical volumes, diffusion, bone and
mammographic density ...) the trait node is also an ``igkg:ImagingPhenotype`` and the association
an ``igkg:RadiogenomicAssociation`` with ``igkg:feature`` the trait and ``igkg:target`` the variant,
so published imaging hits sit beside computed ones, told apart by ``dct:source`` versus
``prov:wasGeneratedBy``.

Rows with haplotypes or SNP x SNP interactions (``rs1; rs2``, ``rs1 x rs2``), with no rsID, or with
no mapped trait are reported rejections. A p-value or effect size that is not a number, or a trait
URI that is not an IRI, is a ``LoadError`` naming line and column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG, PUBMED
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._genes import resolver_for
from loaders._tables import iter_table
from loaders._variants import MISSING, RSID, is_imaging_trait, near_gene, number, variant_node

__all__ = ["CATALOG_BUILD", "LOADER", "REQUIRED"]

logger = logging.getLogger(__name__)

REQUIRED = ("SNPS", "MAPPED_TRAIT", "MAPPED_TRAIT_URI", "P-VALUE", "PUBMEDID")
CATALOG_BUILD = "GRCh38"
"""The build of ``CHR_ID``/``CHR_POS`` in the catalog's downloads."""
STUDY_PAGE = "https://www.ebi.ac.uk/gwas/studies/"

_IRI = re.compile(r"^https?://\S+$")
_RISK = re.compile(r"^(?P<snp>\S+?)-(?P<allele>[ACGT]+|\?)$", re.IGNORECASE)
_GENE_SPLIT = re.compile(r"\s+-\s+|\s*[,;]\s*")
_HINT = "the catalog writes numbers like 2E-8; fix or remove this row"


def _traits(uris: str, labels: str, path: Path, line: int) -> list[tuple[URIRef, str]]:
    iris = [u.strip() for u in uris.split(",") if u.strip()]
    for iri in iris:
        if not _IRI.match(iri):
            raise LoadError(path, f"not an IRI: {iri!r}", line=line, field="MAPPED_TRAIT_URI",
                            hint="MAPPED_TRAIT_URI holds comma-separated IRIs such as http://www.ebi.ac.uk/efo/EFO_0005035")
    names = [n.strip() for n in labels.split(", ")] if labels.strip() else []
    if len(names) != len(iris):  # a label with a comma in it: keep the whole text for a single trait
        names = [labels.strip()] * len(iris) if len(iris) == 1 else [""] * len(iris)
    return [(URIRef(iri), name) for iri, name in zip(iris, names, strict=True)]


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one variant-trait association per row and mapped trait (see the module docstring)."""
    resolver = resolver_for(context, report)
    traits_seen: set[URIRef] = set()
    genes_cache: dict[str, URIRef | None] = {}
    rows = 0
    for row in iter_table(path, context, delimiter="\t", required=REQUIRED):
        rows += 1
        report.records_read += 1
        cells = row.cells
        snps = cells["SNPS"].strip()
        if not snps or snps.upper() in MISSING:
            report.reject("no SNP", line=row.line, field="SNPS")
            continue
        if re.search(r";|\sx\s|,", snps):
            report.reject(f"haplotype or interaction {snps!r}: one association per single variant only",
                          line=row.line, record=snps, field="SNPS")
            continue
        if not RSID.match(snps):
            report.reject(f"{snps!r} is not an rsID", line=row.line, record=snps, field="SNPS")
            report.unmapped_id("variant", snps)
            continue
        traits = _traits(cells["MAPPED_TRAIT_URI"], cells["MAPPED_TRAIT"], path, row.line)
        if not traits:
            report.reject("no mapped trait", line=row.line, record=snps, field="MAPPED_TRAIT_URI")
            continue
        p = number(cells["P-VALUE"], path, row.line, "P-VALUE", hint=_HINT)
        effect = number(cells.get("OR or BETA", ""), path, row.line, "OR or BETA", hint=_HINT)
        ci = cells.get("95% CI (TEXT)", "").strip()
        if effect is not None and "decrease" in ci.lower():
            effect = -effect
        frequency = number(cells.get("RISK ALLELE FREQUENCY", ""), path, row.line, "RISK ALLELE FREQUENCY", hint=_HINT)
        risk = _RISK.match(cells.get("STRONGEST SNP-RISK ALLELE", "").strip())
        allele = risk["allele"].upper() if risk and risk["allele"] != "?" else None
        chrom = cells.get("CHR_ID", "").strip()
        position = cells.get("CHR_POS", "").strip()
        triples: list[Triple] = []
        variant = variant_node(context, triples, variant_id=snps,
                               chrom=chrom if chrom and ";" not in chrom and " x " not in chrom else None,
                               pos=int(position) if position.isdigit() else None,
                               build=CATALOG_BUILD if position.isdigit() else None)
        genes: list[URIRef] = []
        for symbol in (s for s in _GENE_SPLIT.split(cells.get("MAPPED_GENE", "")) if s.strip()):
            symbol = symbol.strip()
            if symbol.upper() in MISSING:
                continue
            if symbol not in genes_cache:
                result = resolver.resolve(symbol, "symbol")
                genes_cache[symbol] = result.gene if result.ok else None
                if not result.ok:
                    report.unmapped_id("gene", symbol)
            gene = genes_cache[symbol]
            if gene is not None and gene not in genes:
                genes.append(gene)
                near_gene(variant, gene, triples)
        pmid = cells["PUBMEDID"].strip()
        study = cells.get("STUDY ACCESSION", "").strip()
        for trait, label in traits:
            imaging = bool(label) and is_imaging_trait(label)
            if trait not in traits_seen:
                traits_seen.add(trait)
                if label:
                    triples.append((trait, RDFS.label, Literal(label)))
                if imaging:
                    triples.append((trait, RDF.type, IGKG.ImagingPhenotype))
            node = context.mint("gwas-catalog-association", study or pmid or path.name, snps, str(trait).rsplit("/", 1)[-1])
            triples += [
                (node, RDF.type, IGKG.VariantTraitAssociation),
                (node, IGKG.trait, trait),
                (node, IGKG.variant, variant),
            ]
            if imaging:
                triples += [(node, RDF.type, IGKG.RadiogenomicAssociation), (node, IGKG.feature, trait),
                            (node, IGKG.target, variant)]
            triples += [(node, IGKG.gene, gene) for gene in genes]
            if p is not None:
                triples.append((node, IGKG.pValue, Literal(repr(p), datatype=XSD.double)))
            if effect is not None:
                triples.append((node, IGKG.effectSize, Literal(repr(effect), datatype=XSD.double)))
            if allele:
                triples.append((node, IGKG.effectAllele, Literal(allele)))
            if frequency is not None:
                triples.append((node, IGKG.effectAlleleFrequency, Literal(repr(frequency), datatype=XSD.double)))
            if pmid.isdigit():
                triples += [(node, DCTERMS.source, PUBMED[pmid]), (node, IGKG.publication, Literal(f"PMID:{pmid}"))]
            elif pmid:
                triples.append((node, IGKG.publication, Literal(pmid)))
            if study:
                triples.append((node, DCTERMS.isPartOf, URIRef(STUDY_PAGE + study)))
            reported = cells.get("DISEASE/TRAIT", "").strip()
            if reported:
                triples.append((node, RDFS.label, Literal(f"{snps} - {reported}")))
        yield from triples
    if not rows:
        raise LoadError(path, "no associations in the file", line=2, hint="expected the catalog's association download")
    logger.info("%s: %d rows, %d traits", path, rows, len(traits_seen))


LOADER = Loader(
    kind="gwas-catalog",
    description="NHGRI-EBI GWAS Catalog associations (SNPS, MAPPED_TRAIT_URI, P-VALUE, OR or BETA, PUBMEDID ...): variant-trait associations, imaging traits as radiogenomic ones",
    parse=parse,
    patterns=("gwas_catalog*associations*.tsv", "gwas_catalog*associations*.tsv.gz",
              "gwas-catalog*associations*.tsv", "gwas-catalog*associations*.tsv.gz"),
    version="1",
    options=(),
)
