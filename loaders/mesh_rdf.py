"""NLM MeSH RDF (``mesh.nt`` / ``mesh<year>.nt``, N-Triples, ``meshv:`` vocabulary) -> MeSH.

Every triple of the file is kept as NLM wrote it; then the SKOS/RDFS alignment igkg
queries by is added (the shape ``loaders._mesh`` documents, the same as ``mesh-xml``):
``skos:prefLabel`` from the descriptor's ``rdfs:label``, ``skos:altLabel`` from the
``meshv:prefLabel`` of the terms of its concepts (``meshv:concept``/``preferredConcept``
-> ``meshv:term``/``preferredTerm``), tree-number labels, and ``meshv:broaderDescriptor``
+ ``skos:broader`` derived from the tree numbers (NLM's file may already hold the former;
duplicates collapse in the store). Descriptors under tree C are typed ``igkg:Disease``.
The MeSH year (option ``year``, else from the file name) is kept as provenance.
"""

from __future__ import annotations

import logging
import zlib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.core.errors import LoadError
from kg.core.namespaces import MESH, MESHV, RDF, RDFS
from kg.core.terms import from_oxigraph
from loaders._mesh import Descriptor, descriptor_triples, hierarchy_triples, index_owners, mesh_year
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import limit_lines, open_text
from loaders.rdf import syntax_error

__all__ = ["LOADER"]

logger = logging.getLogger(__name__)

_DESCRIPTOR_CLASSES = {
    str(MESHV.TopicalDescriptor), str(MESHV.PublicationType), str(MESHV.CheckTag), str(MESHV.GeographicalDescriptor),
}
_BASE = str(MESH)


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield NLM's triples, then the alignment triples per descriptor."""
    mesh_year(path, context, report)
    kinds: dict[str, str] = {}
    labels: dict[str, str] = {}
    trees: dict[str, list[str]] = defaultdict(list)
    concepts: dict[str, list[str]] = defaultdict(list)
    terms: dict[str, list[str]] = defaultdict(list)
    term_labels: dict[str, str] = {}
    wanted = {
        str(MESHV.treeNumber), str(MESHV.concept), str(MESHV.preferredConcept),
        str(MESHV.term), str(MESHV.preferredTerm), str(MESHV.prefLabel),
    }
    rdf_type, rdfs_label = str(RDF.type), str(RDFS.label)
    with limit_lines(open_text(path, context), path) as handle:
        try:
            for quad in ox.parse(handle, ox.RdfFormat.N_TRIPLES):
                report.records_read += 1
                s, p, o = quad.subject, quad.predicate.value, quad.object
                yield from_oxigraph(s), from_oxigraph(quad.predicate), from_oxigraph(o)
                if not isinstance(s, ox.NamedNode) or not s.value.startswith(_BASE):
                    continue
                local = s.value[len(_BASE):]
                if p == rdf_type and isinstance(o, ox.NamedNode) and o.value in _DESCRIPTOR_CLASSES:
                    kinds[local] = o.value
                elif p == rdfs_label and isinstance(o, ox.Literal):
                    labels.setdefault(local, o.value)
                elif p in wanted:
                    if p == str(MESHV.prefLabel) and isinstance(o, ox.Literal):
                        term_labels[local] = o.value
                    elif isinstance(o, ox.NamedNode) and o.value.startswith(_BASE):
                        target = o.value[len(_BASE):]
                        if p == str(MESHV.treeNumber):
                            trees[local].append(target)
                        elif p in (str(MESHV.concept), str(MESHV.preferredConcept)):
                            concepts[local].append(target)
                        else:
                            terms[local].append(target)
        except SyntaxError as exc:
            raise syntax_error(path, exc) from None
        except (EOFError, zlib.error) as exc:
            raise LoadError(path, f"file is truncated or not a valid archive ({exc})", hint="download the file again") from None
    descriptor_trees: dict[str, list[str]] = {}
    for ui, kind in kinds.items():
        entry = [term_labels[t] for c in dict.fromkeys(concepts.get(ui, [])) for t in dict.fromkeys(terms.get(c, [])) if t in term_labels]
        descriptor = Descriptor(ui=ui, name=labels.get(ui, ""), kind=MESHV[kind.rsplit("#", 1)[-1]],
                                tree_numbers=sorted(set(trees.get(ui, []))), entry_terms=entry)
        descriptor_trees[ui] = descriptor.tree_numbers
        yield from descriptor_triples(descriptor)
    yield from hierarchy_triples(descriptor_trees, index_owners(descriptor_trees.items()))
    report.note(f"{len(kinds)} descriptors aligned to SKOS")


LOADER = Loader(
    kind="mesh-rdf",
    description="NLM MeSH RDF in N-Triples (gzip or not): meshv: triples kept, plus skos:prefLabel/altLabel/broader from tree numbers (option year)",
    parse=parse,
    patterns=("mesh*.nt", "mesh*.nt.gz"),
    version="1",
    options=("year",),
)
