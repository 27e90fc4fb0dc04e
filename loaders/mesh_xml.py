"""MeSH descriptor XML (``desc<year>.xml``, as NLM publishes it) -> MeSH descriptors.

Streams ``DescriptorRecord`` elements with ``iterparse`` (the full file is ~300 MB):
``DescriptorUI``, ``DescriptorName/String``, the ``DescriptorClass`` attribute (1 topical,
2 publication type, 3 check tag, 4 geographic), ``TreeNumberList/TreeNumber`` and every
``ConceptList/Concept/TermList/Term/String`` (entry terms). The triples are the shape
``loaders._mesh`` documents, the same the ``mesh-rdf`` loader makes from NLM's RDF, with
the hierarchy derived from tree numbers. The MeSH year (option ``year``, else from the
file name) is kept as provenance.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse

from kg.core.errors import LoadError
from kg.core.namespaces import MESHV
from loaders._mesh import Descriptor, descriptor_triples, hierarchy_triples, index_owners, mesh_year
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import MAX_LINE_BYTES, open_text
from loaders._xml import xml_error

__all__ = ["LOADER", "read_descriptors"]

logger = logging.getLogger(__name__)

_CLASSES = {
    "1": MESHV.TopicalDescriptor,
    "2": MESHV.PublicationType,
    "3": MESHV.CheckTag,
    "4": MESHV.GeographicalDescriptor,
}
_UI = re.compile(r"^D\d{6,9}$")


def read_descriptors(path: Path, context: LoadContext | None, report: LoadReport) -> Iterator[Descriptor]:
    """Yield each ``DescriptorRecord`` of the file as a ``Descriptor``."""
    handle = open_text(path, context)
    parser = iterparse(handle, events=("start", "end"))
    root = None
    try:
        for event, element in parser:
            if root is None and event == "start":
                root = element
                if element.tag != "DescriptorRecordSet":
                    raise LoadError(
                        path, f"root element is <{element.tag}>, not <DescriptorRecordSet>", line=1,
                        hint="give NLM's descriptor XML (desc<year>.xml); qualifier and supplementary files are other formats",
                    )
            if event != "end" or element.tag != "DescriptorRecord":
                continue
            report.records_read += 1
            ui = (element.findtext("DescriptorUI") or "").strip()
            if not _UI.match(ui):
                report.reject(f"DescriptorUI {ui!r} is not a MeSH descriptor id", record=ui or None, field="DescriptorUI")
                element.clear()
                continue
            for text in element.itertext():
                if len(text) > MAX_LINE_BYTES:
                    raise LoadError(
                        path, f"a text of {len(text) // (1024 * 1024)} MiB in this descriptor", record=ui,
                        hint="the record is corrupt; get NLM's file again",
                    )
            descriptor = Descriptor(
                ui=ui,
                name=(element.findtext("DescriptorName/String") or "").strip(),
                kind=_CLASSES.get(element.get("DescriptorClass", "1").strip(), MESHV.TopicalDescriptor),
                tree_numbers=[t.text.strip() for t in element.iterfind("TreeNumberList/TreeNumber") if t.text],
                entry_terms=[s.text.strip() for s in element.iterfind("ConceptList/Concept/TermList/Term/String") if s.text],
            )
            element.clear()
            if root is not None:
                root.clear()
            yield descriptor
    except ParseError as exc:
        raise xml_error(path, exc) from None
    except (EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, LoadError):
            raise
        raise LoadError(path, f"file is truncated or not a valid archive ({exc})", hint="download the file again") from None
    finally:
        handle.close()


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield every descriptor, then the hierarchy derived from tree numbers."""
    mesh_year(path, context, report)
    trees: dict[str, list[str]] = {}
    for descriptor in read_descriptors(path, context, report):
        trees[descriptor.ui] = descriptor.tree_numbers
        yield from descriptor_triples(descriptor)
    yield from hierarchy_triples(trees, index_owners(trees.items()))


LOADER = Loader(
    kind="mesh-xml",
    description="MeSH descriptor XML (desc<year>.xml, gzip or not): descriptors, entry terms, tree numbers and the derived hierarchy (option year)",
    parse=parse,
    patterns=("desc20*.xml", "desc19*.xml", "desc*.xml.gz", "desc-*.xml"),
    version="1",
    options=("year",),
)
