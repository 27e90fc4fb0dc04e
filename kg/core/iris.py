"""Instance IRIs: where they are minted and how (deterministically, from identifying parts)."""

from __future__ import annotations

from urllib.parse import quote

from rdflib import URIRef

__all__ = ["DEFAULT_INSTANCE_BASE", "mint"]

DEFAULT_INSTANCE_BASE = "https://w3id.org/igkg/id/"
"""Where instance IRIs (subjects, studies, ROIs, measurements) are minted by default (``IGKG_BASE``)."""


def mint(base: str, kind: str, *parts: object) -> URIRef:
    """Mint a deterministic instance IRI from its kind and identifying parts.

    The same source data always gives the same IRI, so reloading a file or meeting the
    same subject id from another loader lands on the same node.

    >>> mint("https://w3id.org/igkg/id/", "subject", "R01-003")
    rdflib.term.URIRef('https://w3id.org/igkg/id/subject/R01-003')
    >>> mint("https://w3id.org/igkg/id/", "roi", "case 1", "GTV")
    rdflib.term.URIRef('https://w3id.org/igkg/id/roi/case%201/GTV')
    """
    if not parts:
        raise ValueError("mint needs at least one identifying part")
    tail = "/".join(quote(str(p), safe="-._~") for p in parts)
    return URIRef(f"{base}{kind}/{tail}")
