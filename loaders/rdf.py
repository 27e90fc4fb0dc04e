"""RDF files (N-Triples, Turtle, RDF/XML, N-Quads, TriG, JSON-LD; gzip or not).

The embedded store bulk-loads these natively (``Loader.rdf``); ``parse`` is the
portable path used by other back ends and yields rdflib terms.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.core.errors import LoadError
from kg.core.terms import from_oxigraph
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import limit_lines, open_text
from loaders._xml import check_entity_expansion

__all__ = ["LOADER", "rdf_format"]

_SUFFIXES: dict[str, ox.RdfFormat] = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ntriples": ox.RdfFormat.N_TRIPLES,
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nq": ox.RdfFormat.N_QUADS,
    ".nquads": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".n3": ox.RdfFormat.N3,
}


_LINE_FORMATS = (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS, ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.N3)
"""Syntaxes whose lines a reader may bound (``loaders._tables.limit_lines``): no legitimate line nears 8 MiB."""


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF syntax of a file from its suffix (``.gz`` looked through)."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if name.endswith(".owl.ttl"):
        suffix = ".ttl"
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise LoadError(
            path, f"unknown RDF suffix {suffix!r}", hint="use one of " + ", ".join(sorted(_SUFFIXES))
        ) from None


def open_rdf(path: Path, *, limit: bool = True):  # noqa: ANN201 - a binary file object
    """Open an RDF file for reading, looking through gzip.

    RDF/XML whose DTD entities expand without bound is refused first (``loaders._xml``); a
    line-based format is read through ``limit_lines`` (an over-long line is a ``LoadError``
    naming it) unless ``limit`` is false (for a reader that bounds its lines itself).
    """
    if not path.is_file():
        raise LoadError(path, "file not found", hint="check the path")
    fmt = rdf_format(path)
    if fmt == ox.RdfFormat.RDF_XML:
        check_entity_expansion(path)
    handle = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    return limit_lines(handle, path) if limit and fmt in _LINE_FORMATS else handle


def syntax_error(path: Path, exc: Exception) -> LoadError:
    """Turn a pyoxigraph parse error into a LoadError with the line it names."""
    text = str(exc)
    line = None
    for marker in ("line ", "on line "):
        if marker in text:
            digits = text.split(marker, 1)[1].split()[0].strip(",:")
            if digits.isdigit():
                line = int(digits)
                break
    return LoadError(path, f"RDF syntax error: {text}", line=line, hint="fix the file or give the right --kind")


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield every triple of the file (quads lose their graph: one source, one graph)."""
    fmt = rdf_format(path)
    if path.name.lower().endswith(".gz"):
        handle = open_rdf(path)
    else:
        if fmt == ox.RdfFormat.RDF_XML:
            check_entity_expansion(path)
        handle = open_text(path, context)
        if fmt in _LINE_FORMATS:
            handle = limit_lines(handle, path)
    with handle:
        try:
            for quad in ox.parse(handle, fmt):
                report.records_read += 1
                yield (from_oxigraph(quad.subject), from_oxigraph(quad.predicate), from_oxigraph(quad.object))
        except SyntaxError as exc:
            raise syntax_error(path, exc) from None


LOADER = Loader(
    kind="rdf",
    description="RDF files: N-Triples, Turtle, RDF/XML, N-Quads, TriG, JSON-LD (gzip or not)",
    parse=parse,
    patterns=tuple(f"*{s}" for s in _SUFFIXES if s != ".xml")
    + tuple(f"*{s}.gz" for s in _SUFFIXES if s != ".xml"),
    version="1",
    fallback=True,
)
