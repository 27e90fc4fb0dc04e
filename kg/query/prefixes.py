"""SPARQL text helpers: tokenising (strings, IRIs and comments apart) and PREFIX completion.

>>> print(with_prefixes("SELECT ?g WHERE { ?g a igkg:SourceGraph }  # rdfs: in a comment", {"igkg": "https://w3id.org/igkg/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}), end="")
PREFIX igkg: <https://w3id.org/igkg/>
SELECT ?g WHERE { ?g a igkg:SourceGraph }  # rdfs: in a comment
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from kg.core.namespaces import PREFIXES

__all__ = ["has_dataset_clause", "strip_strings", "tokens", "with_prefixes"]

_DATASET_CLAUSE = re.compile(r"\bFROM\s+(?:NAMED\s+)?(?:<|[A-Za-z_][\w.-]*:|:)", re.IGNORECASE)

_PREFIX_DECL = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?\s*:", re.IGNORECASE)


def with_prefixes(text: str, prefixes: Mapping[str, str] | None = PREFIXES) -> str:
    """``text`` with a ``PREFIX`` line for each of ``prefixes`` (default: igkg's prefix map) that
    the text uses but does not declare itself, so that it runs on any SPARQL engine.

    >>> print(with_prefixes("SELECT ?g WHERE { ?g a igkg:Gene }"))
    PREFIX igkg: <https://w3id.org/igkg/>
    SELECT ?g WHERE { ?g a igkg:Gene }
    """
    if not prefixes:
        return text
    declared = {m.group(1) or "" for m in _PREFIX_DECL.finditer(text)}
    body = strip_strings(text)
    lines = [
        f"PREFIX {p}: <{iri}>\n"
        for p, iri in prefixes.items()
        if p not in declared and re.search(rf"(?<![\w.-]){re.escape(p)}:", body)
    ]
    return "".join(lines) + text


def strip_strings(text: str) -> str:
    """The text with string literals, IRIs and comments blanked (for keyword searches).

    >>> strip_strings('SELECT "igkg:" ?x')
    'SELECT       ?x'
    """
    return "".join(token if kind == "code" else " " * len(token) for kind, token in tokens(text))


def has_dataset_clause(text: str) -> bool:
    """Whether a query names its own dataset (``FROM`` or ``FROM NAMED``), outside strings and comments.

    >>> has_dataset_clause("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }"), has_dataset_clause('ASK { ?s ?p "FROM <x>" }')
    (True, False)
    """
    masked = "".join(
        token if kind == "code" else ("<" + " " * (len(token) - 1) if kind == "iri" else " " * len(token))
        for kind, token in tokens(text)
    )
    return _DATASET_CLAUSE.search(masked) is not None


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """Split SPARQL text into ``code``, ``string``, ``iri`` and ``comment`` runs.

    >>> list(tokens('ASK { <urn:a> ?p "b" } # c'))
    [('code', 'ASK { '), ('iri', '<urn:a>'), ('code', ' ?p '), ('string', '"b"'), ('code', ' } '), ('comment', '# c')]
    """
    i, n, start = 0, len(text), 0
    while i < n:
        c = text[i]
        kind = None
        end = i
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            kind = "comment"
        elif c in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and text[j : j + len(quote)] != quote:
                j += 2 if text[j] == "\\" else 1
            end = min(n, j + len(quote))
            kind = "string"
        elif c == "<":
            m = re.match(r"<[^<>\"{}|^`\\\s]*>", text[i:])
            if m:
                end = i + m.end()
                kind = "iri"
        if kind is None:
            i += 1
            continue
        if start < i:
            yield "code", text[start:i]
        yield kind, text[i:end]
        i = start = end
    if start < n:
        yield "code", text[start:]
