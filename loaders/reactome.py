"""Reactome release files -> pathways, their hierarchy and their member genes, for one species.

Reads a folder holding Reactome's download files, or one of them
(reactome.org/download-data, "Identifier mapping files" and "Pathways"):

- ``ReactomePathways.txt``: stable id, name, species (all species);
- ``ReactomePathwaysRelation.txt``: parent id, child id (all species);
- ``NCBI2Reactome*.txt``: NCBI Gene id, pathway id, URL, pathway name, evidence code,
  species (the ``_PE_`` variants add the physical entity in columns 2-3);
- ``ReactomePathways.gmt``: pathway name, stable id, member gene symbols (human only).

Pathways become ``igkg:Pathway`` nodes with their identifiers.org IRI
(``http://identifiers.org/reactome/R-HSA-...``) and ``RO:0002162`` (in taxon) to the
NCBITaxon class; the hierarchy is ``child igkg:subPathwayOf parent``; membership is
``gene igkg:memberOf pathway``. Entrez ids give NCBI Gene IRIs directly; symbols go
through the store's gene resolver and unmapped ones are reported (and kept as
``igkg:memberSymbol``). Option ``species`` (default ``Homo sapiens``) keeps one species;
an unknown species is an error listing the known ones.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG, OBO, RDF, RDFS, REACTOME, RO
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_lines, no_data_rows
from loaders._genes import gene_iri, member_triples, resolver_for

__all__ = ["LOADER", "SPECIES", "pathway_iri"]

logger = logging.getLogger(__name__)

SPECIES: dict[str, tuple[str, int]] = {
    "Homo sapiens": ("HSA", 9606),
    "Mus musculus": ("MMU", 10090),
    "Rattus norvegicus": ("RNO", 10116),
    "Bos taurus": ("BTA", 9913),
    "Canis familiaris": ("CFA", 9615),
    "Sus scrofa": ("SSC", 9823),
    "Gallus gallus": ("GGA", 9031),
    "Taeniopygia guttata": ("TGU", 59729),
    "Xenopus tropicalis": ("XTR", 8364),
    "Danio rerio": ("DRE", 7955),
    "Drosophila melanogaster": ("DME", 7227),
    "Caenorhabditis elegans": ("CEL", 6239),
    "Saccharomyces cerevisiae": ("SCE", 4932),
    "Schizosaccharomyces pombe": ("SPO", 4896),
    "Dictyostelium discoideum": ("DDI", 44689),
    "Plasmodium falciparum": ("PFA", 5833),
    "Mycobacterium tuberculosis": ("MTU", 1773),
    "Arabidopsis thaliana": ("ATH", 3702),
    "Oryza sativa": ("OSA", 4530),
}
"""Reactome species name -> (stable-id species code, NCBI Taxonomy id)."""

_STABLE_ID = re.compile(r"^R-([A-Z]{3})-\d+$")
_FILES = {
    "pathways": "reactomepathways.txt",
    "relation": "reactomepathwaysrelation.txt",
    "ncbi": "ncbi2reactome*.txt",
    "gmt": "reactomepathways*.gmt",
}


def pathway_iri(stable_id: str) -> URIRef:
    """The identifiers.org IRI of a Reactome stable id (version suffix dropped).

    >>> pathway_iri("R-HSA-109581.3")
    rdflib.term.URIRef('http://identifiers.org/reactome/R-HSA-109581')
    """
    return REACTOME[stable_id.strip().split(".", 1)[0]]


def _role(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return next((role for role, pattern in _FILES.items() if fnmatch.fnmatch(name, pattern)), None)


def _inputs(path: Path) -> list[tuple[str, Path]]:
    if path.is_dir():
        found = [(role, p) for p in sorted(path.iterdir()) if p.is_file() and (role := _role(p))]
        if not found:
            raise LoadError(
                path, "no Reactome release file in this folder",
                hint="expected ReactomePathways.txt, ReactomePathwaysRelation.txt, NCBI2Reactome*.txt or ReactomePathways.gmt",
            )
        order = list(_FILES)
        return sorted(found, key=lambda item: order.index(item[0]))
    role = _role(path)
    if role is None:
        raise LoadError(
            path, "not a Reactome release file name",
            hint="name it as Reactome does (ReactomePathways.txt, ReactomePathwaysRelation.txt, NCBI2Reactome.txt, ReactomePathways.gmt)",
        )
    return [(role, path)]


def _species(context: LoadContext, path: Path) -> tuple[str, str, int]:
    name = str(context.option("species", "Homo sapiens")).strip()
    for known, (code, taxon) in SPECIES.items():
        if name.lower() in (known.lower(), code.lower(), str(taxon)):
            return known, code, taxon
    raise LoadError(
        path, f"unknown species {name!r}",
        field="species",
        hint="give --species as Reactome names it: " + ", ".join(SPECIES),
    )


def _cells(path: Path, lineno: int, text: str, minimum: int, what: str) -> list[str]:
    cells = text.split("\t")
    if len(cells) < minimum:
        raise LoadError(
            path, f"{len(cells)} tab-separated cell(s), {what} needs at least {minimum}",
            line=lineno, hint="Reactome files are tab-separated without a header",
        )
    return [c.strip() for c in cells]


def _code(stable_id: str) -> str | None:
    match = _STABLE_ID.match(stable_id.split(".", 1)[0])
    return match.group(1) if match else None


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield pathways, hierarchy and membership triples for the chosen species."""
    inputs = _inputs(path)
    species, code, taxon = _species(context, path)
    taxon_iri = OBO[f"NCBITaxon_{taxon}"]
    resolver = None
    typed: set[URIRef] = set()
    counts = {"pathways": 0, "relations": 0, "members": 0}
    has_names = any(role == "pathways" for role, _ in inputs)

    def pathway(stable_id: str, name: str | None = None) -> Iterator[Triple]:
        node = pathway_iri(stable_id)
        if node not in typed:
            typed.add(node)
            counts["pathways"] += 1
            yield node, RDF.type, IGKG.Pathway
            yield node, RO["0002162"], taxon_iri
        if name:
            yield node, RDFS.label, Literal(name)

    for role, file in inputs:
        before = report.records_read
        for lineno, text in iter_lines(file, context):
            if not text.strip() or text.startswith("#"):
                continue
            if role == "pathways":
                stable_id, name, row_species = _cells(file, lineno, text, 3, "ReactomePathways.txt")[:3]
                report.records_read += 1
                if row_species != species:
                    continue
                yield from pathway(stable_id, name)
            elif role == "relation":
                parent, child = _cells(file, lineno, text, 2, "ReactomePathwaysRelation.txt")[:2]
                report.records_read += 1
                if _code(parent) != code or _code(child) != code:
                    continue
                yield from pathway(parent)
                yield from pathway(child)
                yield pathway_iri(child), IGKG.subPathwayOf, pathway_iri(parent)
                counts["relations"] += 1
            elif role == "ncbi":
                cells = _cells(file, lineno, text, 6, "NCBI2Reactome")
                report.records_read += 1
                if cells[-1] != species:
                    continue
                gene_id = cells[0]
                stable_id, name = (cells[3], cells[5]) if len(cells) >= 8 else (cells[1], cells[3])
                if not gene_id.isdigit():
                    report.reject(f"NCBI Gene id {gene_id!r} is not a number", line=lineno, field="gene")
                    continue
                if _code(stable_id) is None:
                    report.reject(f"not a Reactome stable id: {stable_id!r}", line=lineno, field="pathway")
                    continue
                yield from pathway(stable_id, name)
                gene = gene_iri(gene_id)
                yield gene, RDF.type, IGKG.Gene
                yield gene, IGKG.memberOf, pathway_iri(stable_id)
                counts["members"] += 1
            else:  # gmt
                cells = _cells(file, lineno, text, 2, "a GMT line")
                report.records_read += 1
                name, stable_id, members = cells[0], cells[1], cells[2:]
                if _code(stable_id) is None:
                    report.reject(f"second column is not a Reactome stable id: {stable_id!r}", line=lineno)
                    continue
                if _code(stable_id) != code:
                    continue
                # Reactome's GMT writes names with hyphens; ReactomePathways.txt has the real ones.
                yield from pathway(stable_id, None if has_names else name.replace("-", " "))
                if resolver is None:
                    resolver = resolver_for(context, report)
                for member in members:
                    for triple in member_triples(resolver, member, pathway_iri(stable_id), report):
                        if triple[1] == IGKG.memberOf:
                            counts["members"] += 1
                        yield triple
        if report.records_read == before:
            raise no_data_rows(file, 1, hint="the file is empty or only comments; a cut download? get it again")
    if counts["pathways"] == 0:
        report.note(f"no {species} pathway in {path.name}")
    report.note(
        f"{species}: {counts['pathways']} pathways, {counts['relations']} sub-pathway links, "
        f"{counts['members']} gene memberships"
    )


LOADER = Loader(
    kind="reactome",
    description="Reactome release files (a folder, or ReactomePathways.txt / ReactomePathwaysRelation.txt / NCBI2Reactome*.txt / ReactomePathways.gmt) for one species (option species, default Homo sapiens)",
    parse=parse,
    # ReactomePathways.gmt is inferred as kind "gmt", which gives the same Reactome IRIs.
    patterns=("reactome", "reactome_*", "reactomepathways*.txt", "ncbi2reactome*.txt"),
    version="1",
    accepts_directory=True,
    options=("species",),
)
