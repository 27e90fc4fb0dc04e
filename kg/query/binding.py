"""Parameters bound by the engine: a value becomes exactly one escaped RDF term, never query text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox
from rdflib import Literal
from rdflib.term import Identifier

from kg.core.errors import QuerySyntaxError
from kg.core.terms import from_oxigraph, nt, to_oxigraph

__all__ = ["bind_values"]


def bind_values(sparql: str, bindings: Mapping[str, Any] | None) -> str:
    """Bind variables by a ``VALUES`` block, each value written as an escaped RDF term.

    This is SPARQL's own parameter mechanism: a value can only ever be one RDF term, never
    query text. The block opens the query's outermost ``WHERE`` group, so that the group's
    ``FILTER``s and ``BIND``s and an aggregate over it see the values (as rdflib's
    ``initBindings`` do); a text with no such group (an update, a bare ``DESCRIBE``) gets
    it as a trailing ``VALUES`` clause. A nested group evaluated on its own (a ``UNION``
    branch, an ``OPTIONAL``'s ``FILTER``) still does not see it: mark those with
    ``#@params`` in a named query.

    :raises QuerySyntaxError: a binding's name is not a SPARQL variable name.

    >>> bind_values("SELECT ?s WHERE { ?s rdfs:label ?l }", {"l": 'x" } UNION { ?a ?b ?c'})
    'SELECT ?s WHERE {\\nVALUES (?l) { ("x\\\\" } UNION { ?a ?b ?c") }\\n ?s rdfs:label ?l }'
    >>> bind_values("SELECT (COUNT(*) AS ?n) { ?s ?p ?o FILTER(?p = ?x) }", {"x": 1}).splitlines()[1]
    'VALUES (?x) { ("1"^^<http://www.w3.org/2001/XMLSchema#integer>) }'
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
    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms)}) }}"
    at = _where_group_start(sparql)
    if at is None:
        return f"{sparql}\n{block}"
    return f"{sparql[:at]}\n{block}\n{sparql[at:]}"


_TOKENS = re.compile(
    r"""(?P<skip>\#[^\n]*|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\x00-\x20]*>)"""
    r"""|(?P<open>\{)|(?P<close>\})"""
    r"""|(?<![?$:\w])(?P<word>SELECT|CONSTRUCT|ASK|DESCRIBE|WHERE)(?![\w:-])""",
    re.IGNORECASE,
)


def _where_group_start(sparql: str) -> int | None:
    """The offset just inside the opening brace of the query's outermost ``WHERE`` group, if any."""
    depth = 0
    form: str | None = None
    after_where = False
    for match in _TOKENS.finditer(sparql):
        if match.lastgroup == "open":
            if depth == 0 and form is not None and (form != "CONSTRUCT" or after_where):
                return match.end()
            depth += 1
        elif match.lastgroup == "close":
            depth = max(depth - 1, 0)
        elif match.lastgroup == "word" and depth == 0:
            word = match.group("word").upper()
            if word == "WHERE":
                after_where = form is not None
            elif form is None:
                form = word
    return None


def _as_rdflib(value: Any) -> Any:
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return from_oxigraph(value)
    if isinstance(value, Identifier):
        return value
    if isinstance(value, str):
        return Literal(value)
    return from_oxigraph(to_oxigraph(value))
