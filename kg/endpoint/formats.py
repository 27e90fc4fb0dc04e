"""Result formats and content negotiation (``Accept`` with q-values, or a ``format`` parameter).

SELECT and ASK answer in SPARQL JSON, XML, CSV or TSV; CONSTRUCT and DESCRIBE in Turtle,
N-Triples, N-Quads, JSON-LD or RDF/XML. The ``format`` parameter (a short name or a media
type) wins over ``Accept``.

>>> choose("SELECT", "text/csv;q=0.5, application/sparql-results+xml").media_type
'application/sparql-results+xml'
>>> choose("CONSTRUCT", None, "json").media_type
'application/ld+json'
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kg.endpoint.errors import NotAcceptable

__all__ = ["Format", "RDF_FORMATS", "RESULT_FORMATS", "choose", "parse_accept", "prefers_html"]


@dataclass(frozen=True)
class Format:
    """One serialisation: its short name, media type and pyoxigraph format."""

    name: str
    media_type: str
    results: ox.QueryResultsFormat | None = None
    rdf: ox.RdfFormat | None = None
    aliases: tuple[str, ...] = ()


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", results=ox.QueryResultsFormat.JSON, aliases=("application/json", "srj")),
    Format("xml", "application/sparql-results+xml", results=ox.QueryResultsFormat.XML, aliases=("application/xml", "text/xml", "srx")),
    Format("csv", "text/csv", results=ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", results=ox.QueryResultsFormat.TSV),
)
"""SELECT/ASK formats, the first being the default."""

RDF_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", rdf=ox.RdfFormat.TURTLE, aliases=("ttl", "application/x-turtle")),
    Format("ntriples", "application/n-triples", rdf=ox.RdfFormat.N_TRIPLES, aliases=("nt", "text/plain")),
    Format("nquads", "application/n-quads", rdf=ox.RdfFormat.N_QUADS, aliases=("nq",)),
    Format("jsonld", "application/ld+json", rdf=ox.RdfFormat.JSON_LD, aliases=("json-ld", "json", "application/json")),
    Format("rdfxml", "application/rdf+xml", rdf=ox.RdfFormat.RDF_XML, aliases=("xml", "rdf", "application/xml", "text/xml")),
)
"""CONSTRUCT/DESCRIBE (and service description) formats, the first being the default."""


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """``Accept`` as (media range, q) pairs, best first; an absent header accepts anything."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    # Best q first; among equals, the more specific range, then the order written.
    ranges.sort(key=lambda r: (-r[1], r[0].count("*"), r[2]))
    return [(media, q) for media, q, _ in ranges]


def _matches(media_range: str, fmt: Format) -> bool:
    if media_range == "*/*":
        return True
    candidates = (fmt.media_type, *[a for a in fmt.aliases if "/" in a])
    if media_range.endswith("/*"):
        return any(c.startswith(media_range[:-1]) for c in candidates)
    return media_range in candidates


def choose(form: str, accept: str | None, fmt: str | None = None) -> Format:
    """The format for a query form from a ``format`` parameter, else from ``Accept``."""
    table = RESULT_FORMATS if form in ("SELECT", "ASK") else RDF_FORMATS
    if fmt:
        wanted = fmt.strip().lower().split(";")[0].strip()
        for candidate in table:
            if wanted in (candidate.name, candidate.media_type, *candidate.aliases):
                return candidate
        names = ", ".join(c.name for c in table)
        raise NotAcceptable(f"format={fmt!r} is not available for a {form} query; one of {names}")
    for media_range, q in parse_accept(accept):
        if q <= 0:
            continue
        for candidate in table:
            if _matches(media_range, candidate):
                refused = any(m == candidate.media_type and qq <= 0 for m, qq in parse_accept(accept))
                if not refused:
                    return candidate
    offered = ", ".join(c.media_type for c in table)
    raise NotAcceptable(f"cannot answer a {form} query in any type of Accept: {accept!r}; offered: {offered}")


def prefers_html(accept: str | None) -> bool:
    """Whether a browser asked: ``text/html`` ranks above every RDF and results type."""
    ranked = parse_accept(accept)
    for media_range, q in ranked:
        if q <= 0:
            continue
        if media_range in ("text/html", "application/xhtml+xml"):
            return True
        if media_range != "*/*" and not media_range.endswith("/*"):
            return False
    return False
