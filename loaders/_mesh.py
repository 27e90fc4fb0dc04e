"""The shape both MeSH loaders give a descriptor, so ``mesh-rdf`` and ``mesh-xml`` meet.

Per descriptor ``D`` (``http://id.nlm.nih.gov/mesh/D009369``): its ``meshv:`` class,
``meshv:identifier``, ``rdfs:label`` and ``skos:prefLabel`` (the preferred term, ``@en``),
``skos:altLabel`` for every other entry term, ``meshv:treeNumber`` to tree-number nodes
(``http://id.nlm.nih.gov/mesh/C04.588``, typed ``meshv:TreeNumber``, labelled with the
number and linked by ``meshv:parentTreeNumber``), and the hierarchy derived from the tree
numbers: ``D meshv:broaderDescriptor B`` and ``D skos:broader B`` for every descriptor
``B`` holding a parent tree number. Descriptors under tree C (Diseases) are also typed
``igkg:Disease``, so diagnoses and disease ontologies meet them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.namespaces import IGKG, MESH, MESHV, RDF, RDFS, SKOS
from loaders._contract import LoadContext, LoadReport, Triple

__all__ = ["Descriptor", "descriptor_triples", "hierarchy_triples", "index_owners", "mesh_year", "parent_tree_number"]

_YEAR = re.compile(r"(?<!\d)(19|20)(\d\d)(?!\d)")


@dataclass
class Descriptor:
    """What both MeSH formats say about one descriptor."""

    ui: str
    name: str = ""
    kind: URIRef = MESHV.TopicalDescriptor
    tree_numbers: list[str] = field(default_factory=list)
    entry_terms: list[str] = field(default_factory=list)

    @property
    def iri(self) -> URIRef:
        return MESH[self.ui]


def parent_tree_number(number: str) -> str | None:
    """``C04.588.274`` -> ``C04.588``; a top-level number has no parent.

    >>> parent_tree_number("C04.588.274"), parent_tree_number("C04")
    ('C04.588', None)
    """
    return number.rsplit(".", 1)[0] if "." in number else None


def descriptor_triples(d: Descriptor) -> Iterator[Triple]:
    """The triples of one descriptor, without the hierarchy (see ``hierarchy_triples``)."""
    node = d.iri
    yield node, RDF.type, d.kind
    yield node, MESHV.identifier, Literal(d.ui)
    if d.name:
        yield node, RDFS.label, Literal(d.name, lang="en")
        yield node, SKOS.prefLabel, Literal(d.name, lang="en")
    for term in dict.fromkeys(d.entry_terms):
        if term != d.name:
            yield node, SKOS.altLabel, Literal(term, lang="en")
    for number in d.tree_numbers:
        tree = MESH[number]
        yield node, MESHV.treeNumber, tree
        yield tree, RDF.type, MESHV.TreeNumber
        yield tree, RDFS.label, Literal(number)
        parent = parent_tree_number(number)
        if parent:
            yield tree, MESHV.parentTreeNumber, MESH[parent]
    if any(n.startswith("C") for n in d.tree_numbers):
        yield node, RDF.type, IGKG.Disease


def hierarchy_triples(trees: dict[str, list[str]], owners: dict[str, list[str]]) -> Iterator[Triple]:
    """``meshv:broaderDescriptor`` and ``skos:broader`` from tree numbers.

    ``trees`` maps descriptor UI -> its tree numbers, ``owners`` tree number -> descriptor UIs.
    """
    for ui, numbers in trees.items():
        broader: dict[str, None] = {}
        for number in numbers:
            parent = parent_tree_number(number)
            for owner in owners.get(parent, []) if parent else []:
                if owner != ui:
                    broader[owner] = None
        for owner in broader:
            yield MESH[ui], MESHV.broaderDescriptor, MESH[owner]
            yield MESH[ui], SKOS.broader, MESH[owner]


def mesh_year(path: Path, context: LoadContext, report: LoadReport) -> str | None:
    """The MeSH year: option ``year``, else four digits in the file name (``desc2024.xml``).

    It is recorded as ``igkg:sourceVersion`` of the loaded graph in the catalog.
    """
    year = context.option("year")
    if year is None:
        match = _YEAR.search(path.name)
        year = match.group(0) if match else None
    if year is None:
        report.note("MeSH year unknown: give --year (the file name has none)")
        return None
    year = str(year)
    provenance = getattr(report, "provenance", None)
    if provenance is None:
        provenance = []
        report.provenance = provenance  # type: ignore[attr-defined]
    provenance.append((IGKG.sourceVersion, Literal(f"MeSH {year}")))
    report.note(f"MeSH {year}")
    return year


def index_owners(trees: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """tree number -> the descriptor UIs holding it."""
    owners: dict[str, list[str]] = {}
    for ui, numbers in trees:
        for number in numbers:
            owners.setdefault(number, []).append(ui)
    return owners
