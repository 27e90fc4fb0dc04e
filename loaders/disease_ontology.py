"""Human Disease Ontology reports (``DOreports/``) -> DOID classes, hierarchy and crosswalks.

The Disease Ontology publishes, beside ``doid.obo`` (which the ``obo`` loader reads), flat
reports in github.com/DiseaseOntology/HumanDiseaseOntology ``src/DOreports/`` (CC0 1.0):
quoted, tab-separated (or, for the ``.csv`` copies, comma-separated) tables with a
header row:

- ``HumanDO.tsv``: ``id label subClassOf``, one row per DOID and parent; the parent is
  written by its **label**, so a term with two parents has two rows. The root
  ``disease`` (DOID:4) has no row of its own and is known by that label;
- ``<SOURCE>inDO.tsv`` (``OMIMinDO``, ``MESHinDO``, ``NCIinDO``, ``OrphanetinDO``,
  ``ICD10inDO``, ``GARDinDO`` ...): ``id label xrefs``, the cross-references of one
  vocabulary comma-separated in one cell (``"MIM:612571, MIM:211980"``);
  ``allXREFinDO.tsv`` has one xref per row in a ``xref`` column.

A folder is read report by report (``HumanDO`` first; other files are skipped and
named in the report), or one report is given. Every DOID becomes what the ``obo``
loader makes of it, so both sources meet on the same node: an ``owl:Class`` and
``igkg:Disease`` at its OBO PURL (``http://purl.obolibrary.org/obo/DOID_1324``) with
``rdfs:label``, ``oboInOwl:id``, ``rdfs:subClassOf`` its parents, ``oboInOwl:hasDbXref``
the xref text and ``skos:exactMatch`` the standard IRI of each xref from the prefix map
(OMIM ``identifiers.org/mim``, MeSH ``id.nlm.nih.gov/mesh``, NCIt OBO PURL, UMLS
``identifiers.org/umls``, Orphanet, SNOMED CT). Xrefs without one (OMIM phenotypic series
``MIM:PS...``, GARD, ICD) are kept as ``oboInOwl:hasDbXref`` text and counted under
``unmapped``. So ``OMIM:211980`` from HPO meets ``DOID:1324`` lung cancer, and a MONDO
class whose xrefs name the same DOID, OMIM or MeSH id meets both (``crosswalk.rq``).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.errors import LoadError
from kg.core.namespaces import DOID, IGKG, OBOINOWL, OWL, RDF, RDFS, SKOS
from loaders._disease_ids import disease_iri, split_curie
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import cut_short, iter_records

__all__ = ["HIERARCHY_COLUMNS", "LOADER", "ROOT", "XREF_COLUMNS", "doid_iri"]

logger = logging.getLogger(__name__)

HIERARCHY_COLUMNS = ("id", "label", "subClassOf")
"""The header of ``HumanDO.tsv``."""
XREF_COLUMNS = ("id", "label", "xrefs")
"""The header of the ``<SOURCE>inDO`` reports (``allXREFinDO`` writes ``xref``)."""
ROOT = ("DOID:4", "disease")
"""The ontology's root class, named only as a parent label in ``HumanDO.tsv``."""

_DOID = re.compile(r"^DOID:(\d+)$")
_REPORT_NAMES = ("humando.tsv", "humando.csv", "*indo.tsv", "*indo.csv")


def doid_iri(curie: str) -> URIRef | None:
    """The OBO PURL of ``DOID:1324``, ``None`` if the text is not a DOID.

    >>> doid_iri("DOID:1324")
    rdflib.term.URIRef('http://purl.obolibrary.org/obo/DOID_1324')
    >>> doid_iri("DOID_1324") is None
    True
    """
    match = _DOID.match(curie.strip())
    return DOID[match.group(1)] if match else None


@dataclass(frozen=True)
class ReportRow:
    """One data row of a DO report: where it is and its cells by column."""

    path: Path
    line: int
    doid: URIRef
    curie: str
    label: str
    value: str
    """The parent label (``HumanDO``) or the xref cell (``*inDO``)."""


def _rows(path: Path, context: LoadContext, report: LoadReport) -> tuple[str, list[ReportRow]]:
    """The layout (``hierarchy`` or ``xrefs``) and the rows of one report."""
    delimiter = "," if path.name.lower().endswith((".csv", ".csv.gz")) else "\t"
    header: list[str] | None = None
    layout = ""
    line = 0
    rows: list[ReportRow] = []
    for record in iter_records(path, context, delimiter=delimiter):
        cells, line = record.cells, record.line
        if header is None:
            header = [c.strip() for c in cells]
            if header[:3] == list(HIERARCHY_COLUMNS):
                layout = "hierarchy"
            elif header[:2] == ["id", "label"] and len(header) > 2 and header[2] in ("xrefs", "xref"):
                layout = "xrefs"
            else:
                sep = "tab" if delimiter == "\t" else "comma"
                raise LoadError(path, f"not a Disease Ontology report; columns found: {', '.join(header[:8])}", line=line,
                                hint=f"expected the {sep}-separated header 'id label subClassOf' (HumanDO) or 'id label xrefs' (<SOURCE>inDO)")
            continue
        if not any(c.strip() for c in cells):
            continue
        truncated = cut_short(path, record, len(cells), len(header))
        if truncated is not None:
            raise truncated
        if len(cells) != len(header):
            raise LoadError(path, f"{len(cells)} cells but the header has {len(header)} columns", line=line,
                            hint="check the separator and quoting of this line")
        curie = cells[0].strip()
        doid = doid_iri(curie)
        if doid is None:
            raise LoadError(path, f"disease id {curie!r} is not a DOID such as DOID:1324", line=line, field="id",
                            hint="check the columns and the quoting of this line")
        report.records_read += 1
        rows.append(ReportRow(path, line, doid, curie, cells[1].strip(), cells[2].strip()))
    if header is None:
        raise LoadError(path, "the file is empty", line=1, hint="expected the header 'id label subClassOf' or 'id label xrefs'")
    if not rows:
        raise LoadError(path, "a header but no data rows", line=line + 1, hint="the file looks truncated; download it again")
    return layout, rows


def _reports(path: Path, report: LoadReport) -> list[Path]:
    if path.is_file():
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_file() and any(fnmatch.fnmatch(p.name.lower(), n) for n in _REPORT_NAMES))
    skipped = sorted(p.name for p in path.iterdir() if p.is_file() and p not in found)
    if not found:
        raise LoadError(path, "no Disease Ontology report in this folder", hint="expected HumanDO.tsv and/or <SOURCE>inDO.tsv files")
    if skipped:
        report.note("skipped (not a DO report): " + ", ".join(skipped))
    # HumanDO first: it gives the classes and their parents the xref reports hang on.
    return sorted(found, key=lambda p: (not p.name.lower().startswith("humando"), p.name.lower()))


def _class(node: URIRef, curie: str, label: str) -> Iterator[Triple]:
    """A DOID as the ``obo`` loader renders it: class, disease, id and label."""
    yield node, RDF.type, OWL.Class
    yield node, RDF.type, IGKG.Disease
    yield node, OBOINOWL.id, Literal(curie)
    if label:
        yield node, RDFS.label, Literal(label)


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield the DOID classes, their parents and crosswalks from a report folder or file."""
    described: set[URIRef] = set()
    unmapped_xrefs = 0
    for source in _reports(path, report):
        layout, rows = _rows(source, context, report)
        report.note(f"{source.name}: {len(rows)} rows ({layout})")
        by_label: dict[str, set[URIRef]] = {}
        if layout == "hierarchy":
            for row in rows:
                by_label.setdefault(row.label, set()).add(row.doid)
            if ROOT[1] not in by_label and any(row.value == ROOT[1] for row in rows):
                root = DOID[ROOT[0].split(":")[1]]
                by_label[ROOT[1]] = {root}
                if root not in described:
                    described.add(root)
                    yield from _class(root, ROOT[0], ROOT[1])
        for row in rows:
            if row.doid not in described:
                described.add(row.doid)
                yield from _class(row.doid, row.curie, row.label)
            if layout == "hierarchy":
                if not row.value:
                    continue
                parents = by_label.get(row.value, set())
                if len(parents) != 1:
                    why = "no DOID has" if not parents else f"{len(parents)} DOIDs have"
                    report.reject(f"parent {row.value!r}: {why} that label", line=row.line, record=row.curie, field="subClassOf")
                    report.unmapped_id("DOID parent label", row.value)
                    continue
                yield row.doid, RDFS.subClassOf, next(iter(parents))
                continue
            for xref in (x.strip() for x in row.value.split(",")):
                if not xref:
                    continue
                if split_curie(xref) is None:
                    report.reject(f"xref {xref!r} is not a CURIE", line=row.line, record=row.curie, field="xrefs")
                    continue
                yield row.doid, OBOINOWL.hasDbXref, Literal(xref)
                target = disease_iri(xref)
                if target is None:
                    unmapped_xrefs += 1
                    report.unmapped_id("xref", xref)
                    continue
                yield row.doid, SKOS.exactMatch, target
    if unmapped_xrefs:
        report.note(f"{unmapped_xrefs} xrefs without a standard IRI (e.g. OMIM phenotypic series MIM:PS...) kept as oboInOwl:hasDbXref only")


LOADER = Loader(
    kind="disease-ontology",
    description="Human Disease Ontology reports (DOreports folder, HumanDO.tsv, <SOURCE>inDO.tsv): DOID classes, parents, OMIM / MeSH / NCIt / UMLS / Orphanet crosswalks",
    parse=parse,
    patterns=("doreports", "disease_ontology", "humando.tsv", "humando.csv", "*indo.tsv", "*indo.csv"),
    version="1",
    accepts_directory=True,
)
