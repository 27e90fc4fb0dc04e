"""Parameters bound by the engine: a value becomes exactly one escaped RDF term, never query text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox
from rdflib import Literal
from rdflib.term import Identifier

from kg.core.errors import QuerySyntaxError
from kg.core.terms import from_oxigraph, nt, to_oxigraph

__all__ = ["bind_values"]


def bind_values(sparql: str, bindings: Mapping[str, Any] | None) -> str:
    """Bind variables by a trailing ``VALUES`` clause, each value written as an escaped RDF term.

    This is SPARQL's own parameter mechanism (the same as rdflib's ``initBindings``):
    a value can only ever be one RDF term, never query text.

    >>> bind_values("SELECT ?s WHERE { ?s rdfs:label ?l }", {"l": 'x" } UNION { ?a ?b ?c'})
    'SELECT ?s WHERE { ?s rdfs:label ?l }\\nVALUES (?l) { ("x\\\\" } UNION { ?a ?b ?c") }'
    """
    if not bindings:
        return sparql
    names = list(bindings)
    for name in names:
        if not name.isidentifier():
            raise QuerySyntaxError(f"not a SPARQL variable name: {name!r}")
    terms = []
    for name in names:
        value = bindings[name]
        terms.append("UNDEF" if value is None else nt(_as_rdflib(value)))
    return f"{sparql}\nVALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms)}) }}"


def _as_rdflib(value: Any) -> Any:
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return from_oxigraph(value)
    if isinstance(value, Identifier):
        return value
    if isinstance(value, str):
        return Literal(value)
    return from_oxigraph(to_oxigraph(value))
