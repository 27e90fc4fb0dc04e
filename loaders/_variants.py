"""Variant nodes shared by the genotype loaders, the GWAS Catalog / GWAS-SSF loaders and the GWAS run.

A variant with an rsID is its dbSNP IRI (``http://identifiers.org/dbsnp/rs123``) whichever file
names it; any other variant gets an IRI minted from build, chromosome, position and alleles
(``<base>variant/GRCh37/1/12345/A/G``, alleles in sorted order), so the same site in a PLINK and a
BGEN file of one build is one node whichever allele each counts. The node states chromosome, position, alleles and build.

Imaging traits: a GWAS trait is taken as an imaging-derived measure (an ``igkg:ImagingPhenotype``)
when its label matches :data:`IMAGING_TRAIT_PATTERNS` (EFO's measurement terms for volumes,
thicknesses, areas and densities read off MR, CT, DXA, ultrasound or mammography images).
"""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.iris import mint
from kg.core.namespaces import IGKG
from loaders._contract import LoadContext, Triple
from loaders._tables import finite_number

__all__ = [
    "DBSNP",
    "IMAGING_TRAIT_PATTERNS",
    "MISSING",
    "RSID",
    "is_imaging_trait",
    "near_gene",
    "number",
    "variant_iri",
    "variant_node",
]

DBSNP = Namespace("http://identifiers.org/dbsnp/")
RSID = re.compile(r"^rs[1-9]\d*$")

IMAGING_TRAIT_PATTERNS: tuple[str, ...] = (
    r"\bbrain\b.*\b(volume|morphology|measurement|imaging)",
    r"\b(cortical|cortex)\b.*\b(thickness|surface area|volume)",
    r"\b(grey|gray|white) matter\b",
    r"\bhippocamp\w*\b.*\bvolume",
    r"\b(amygdala|thalam\w*|putamen|caudate|pallidum|accumbens|ventric\w*|cerebell\w*)\b.*\bvolume",
    r"\bintracranial volume",
    r"\bfractional anisotropy|\bmean diffusivity|\bdiffusion tensor",
    r"\bmagnetic resonance|\bMRI\b|\bimaging\b|\bradiomic",
    r"\bmammographic density|\bbreast density",
    r"\bbone (mineral )?density\b",
    r"\bcarotid intima.media thickness",
    r"\bleft ventric\w* (mass|volume|ejection)|\bcardiac (mass|volume)",
    r"\b(visceral|subcutaneous) adipose tissue\b.*\b(volume|area|measurement)",
    r"\bliver fat\b|\bhepatic fat\b|\bproton density fat",
)
"""Regular expressions (case-insensitive) on a trait label that make it an imaging-derived measure."""

_IMAGING = re.compile("|".join(f"(?:{p})" for p in IMAGING_TRAIT_PATTERNS), re.IGNORECASE)


MISSING = frozenset({"", "NR", "NA", "N/A", "#NA", "NAN", "-"})
"""Cells that mean "no value" in GWAS tables (the catalog's ``NR``, GWAS-SSF's ``#NA``)."""


def number(text: str, path: Path, line: int, column: str, *, hint: str) -> float | None:
    """A statistic cell of a GWAS table: ``None`` when missing, else a finite float.

    :raises LoadError: text that is no number, or a non-finite one (names line and column).
    """
    text = text.strip()
    if text.upper() in MISSING:
        return None
    value = finite_number(text, path, line=line, field=column)
    if value is None:
        raise LoadError(path, f"not a number: {text!r}", line=line, field=column, hint=hint)
    return value


def is_imaging_trait(label: str) -> bool:
    """True when a trait label names an imaging-derived measure.

    >>> is_imaging_trait("hippocampal volume"), is_imaging_trait("brain volume measurement")
    (True, True)
    >>> is_imaging_trait("type 2 diabetes mellitus"), is_imaging_trait("body height")
    (False, False)
    """
    return bool(_IMAGING.search(label))


def variant_iri(base: str, variant_id: str, chrom: str, pos: int, effect_allele: str, other_allele: str,
                build: str | None) -> URIRef:
    """The IRI of a variant: dbSNP for an rsID, else minted from build, chromosome, position and alleles.

    >>> variant_iri("https://w3id.org/igkg/id/", "rs429358", "19", 45411941, "C", "T", "GRCh37")
    rdflib.term.URIRef('http://identifiers.org/dbsnp/rs429358')
    >>> variant_iri("https://w3id.org/igkg/id/", "1:10", "1", 10, "G", "A", None)
    rdflib.term.URIRef('https://w3id.org/igkg/id/variant/unknown-build/1/10/A/G')
    """
    text = str(variant_id).strip()
    if RSID.match(text):
        return DBSNP[text]
    return mint(base, "variant", build or "unknown-build", chrom, int(pos), *sorted((other_allele, effect_allele)))


def variant_node(
    context: LoadContext,
    triples: list[Triple],
    *,
    variant_id: str,
    chrom: str | None,
    pos: int | None,
    effect_allele: str | None = None,
    other_allele: str | None = None,
    build: str | None = None,
) -> URIRef:
    """The Variant node for one variant, with its identifier, position, alleles and build appended to ``triples``."""
    text = str(variant_id).strip()
    if RSID.match(text) or chrom is None or pos is None:
        node = DBSNP[text] if RSID.match(text) else context.mint("variant", text)
    else:
        node = variant_iri(context.base, text, chrom, pos, effect_allele or "", other_allele or "", build)
    triples += [(node, RDF.type, IGKG.Variant), (node, IGKG.identifier, Literal(text)), (node, RDFS.label, Literal(text))]
    if chrom is not None:
        triples.append((node, IGKG.chromosome, Literal(str(chrom))))
    if pos is not None:
        triples.append((node, IGKG.position, Literal(int(pos), datatype=XSD.integer)))
    if effect_allele:
        triples.append((node, IGKG.effectAllele, Literal(effect_allele)))
    if other_allele:
        triples.append((node, IGKG.otherAllele, Literal(other_allele)))
    if build:
        triples.append((node, IGKG.genomeBuild, Literal(build)))
    return node


def near_gene(variant: URIRef, gene: URIRef, triples: list[Triple]) -> None:
    """State that ``variant`` lies in or near ``gene`` (the build is on the variant node)."""
    triples.append((variant, IGKG.nearGene, gene))
