"""Conversions between rdflib terms (the API edge) and pyoxigraph terms (the hot path)."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

__all__ = ["from_oxigraph", "nt", "to_oxigraph"]

_XSD = "http://www.w3.org/2001/XMLSchema#"


def to_oxigraph(term: Any) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term, or a plain Python value, as a pyoxigraph term.

    >>> to_oxigraph(URIRef("http://example.org/a"))
    <NamedNode value=http://example.org/a>
    >>> to_oxigraph("EGFR")
    <Literal value=EGFR datatype=<NamedNode value=http://www.w3.org/2001/XMLSchema#string>>
    """
    if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)):
        return term
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, bool):
        return ox.Literal("true" if term else "false", datatype=ox.NamedNode(_XSD + "boolean"))
    if isinstance(term, int):
        return ox.Literal(str(term), datatype=ox.NamedNode(_XSD + "integer"))
    if isinstance(term, float):
        return ox.Literal(repr(term), datatype=ox.NamedNode(_XSD + "double"))
    if isinstance(term, str):
        return ox.Literal(term)
    raise TypeError(f"cannot turn {type(term).__name__} into an RDF term")


def from_oxigraph(term: Any) -> Node:
    """A pyoxigraph term as an rdflib term.

    >>> import pyoxigraph as ox
    >>> from_oxigraph(ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))).toPython()
    7
    >>> from_oxigraph(ox.NamedNode("urn:example:a"))
    rdflib.term.URIRef('urn:example:a')
    """
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD + "string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"unsupported term {term!r}")


_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
"""Characters an IRI may not hold in N-Triples (one regex search: the load's hot path)."""


def nt(term: Node) -> str:
    """An rdflib term in N-Triples syntax (what the store's bulk path reads).

    >>> nt(Literal('say "hi"'))
    '"say \\\\"hi\\\\""'
    """
    if isinstance(term, URIRef):
        text = str(term)
        if _BAD_IRI.search(text):
            raise ValueError(f"not a valid IRI: {text!r}")
        return f"<{text}>"
    if isinstance(term, BNode):
        return f"_:b{term}"
    if isinstance(term, Literal):
        value = (
            str(term)
            .replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
        if term.language:
            return f'"{value}"@{term.language}'
        if term.datatype and str(term.datatype) != _XSD + "string":
            return f'"{value}"^^<{term.datatype}>'
        return f'"{value}"'
    raise TypeError(f"cannot write {term!r} as N-Triples")
