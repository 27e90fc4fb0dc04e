"""Named SPARQL queries: ``queries/*.rq`` files with a typed header, bound safely and run.

Each file holds one question. Its header (the leading ``#`` comment lines) declares::

    # name: features_for_gene
    # description: Imaging features associated with a gene, with statistic, q and provenance.
    # param: gene: string = EGFR -- the gene, as symbol, alias, HGNC id, Entrez id or Ensembl id
    # param: q_max: number = 1 -- keep associations with q <= this
    # param: cohort: iri? -- only associations computed in this cohort

(``queries/README.md`` is the reference for the syntax.) A parameter is a SPARQL variable
of the same name. Its value is checked against its type, turned into exactly one RDF term
and bound by the engine, never pasted into the query text: either by
``KnowledgeGraph.query(sparql, bindings)`` (a ``VALUES`` block opening the outermost WHERE
group) or, when the query marks a line ``#@params`` inside a group, by a ``VALUES`` block of
the same escaped terms at that place, so that ``FILTER``s in that (nested) group see the
values. Both are SPARQL's own parameter mechanism: a value can only ever be one
term, never query syntax.

>>> q = parse_named_query('''# name: demo
... # description: Labels of a thing.
... # param: thing: iri = http://example.org/a -- the thing
... SELECT ?label WHERE {
...   #@params
...   ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label
... }''')
>>> q.params[0].name, q.params[0].type
('thing', 'iri')
>>> print(q.render({"thing": "http://example.org/b"})[0].split("-- the thing")[1])
... # doctest: +NORMALIZE_WHITESPACE
SELECT ?label WHERE {
  VALUES (?thing) { (<http://example.org/b>) }
  ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label
}
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.core.errors import UnknownQuery
from kg.core.namespaces import expand
from kg.core.terms import nt
from kg.query.binding import bind_values
from kg.query.prefixes import with_prefixes

__all__ = [
    "PARAM_MARKER",
    "PARAM_TYPES",
    "NamedQuery",
    "Param",
    "coerce",
    "get_query",
    "load_queries",
    "parse_named_query",
    "queries_dir",
    "run_named_query",
]

logger = logging.getLogger(__name__)

PARAM_MARKER = "#@params"
"""A line holding only this, inside a WHERE group, is where the parameter VALUES block goes."""

PARAM_TYPES: tuple[str, ...] = ("string", "iri", "curie", "number", "integer", "boolean")
"""The parameter types a header may declare (see ``coerce``)."""

_HEADER_KEY = re.compile(r"^#\s*(?P<key>name|description|param)\s*:\s*(?P<rest>.*)$")
_PARAM = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<type>[a-z]+)(?P<optional>\?)?"
    r"(?:\s*=\s*(?P<default>.*?))?\s*(?:--\s*(?P<doc>.*))?$"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Param:
    """One declared parameter: its name (= the SPARQL variable), type, default and doc.

    >>> get_query("features_for_gene").param("gene").default
    'EGFR'
    """

    name: str
    type: str
    default: str | None = None
    optional: bool = False
    doc: str = ""

    @property
    def required(self) -> bool:
        """True when the caller must give a value (no default, not optional).

        >>> Param("gene", "string").required, Param("gene", "string", default="EGFR").required
        (True, False)
        """
        return self.default is None and not self.optional

    def signature(self) -> str:
        """The parameter as the header writes it, e.g. ``gene: string = EGFR``.

        >>> Param("cohort", "iri", optional=True).signature()
        'cohort: iri?'
        """
        text = f"{self.name}: {self.type}{'?' if self.optional else ''}"
        return text + (f" = {self.default}" if self.default is not None else "")


@dataclass(frozen=True)
class NamedQuery:
    """One named query: header fields, the SPARQL text and where it came from.

    >>> query = get_query("features_for_gene")
    >>> query.name, [p.name for p in query.params][:2]
    ('features_for_gene', ['gene', 'q_max'])
    """

    name: str
    description: str
    sparql: str
    params: tuple[Param, ...] = ()
    path: str | None = None
    extra: tuple[str, ...] = field(default=())
    """Further header comment lines (free text), kept for the docs."""

    def param(self, name: str) -> Param:
        """The parameter called ``name``.

        :raises UnknownQuery: the query has no such parameter (the message lists those it has).

        >>> get_query("features_for_gene").param("gene").signature()
        'gene: string = EGFR'
        """
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise UnknownQuery(f"query {self.name!r} has no parameter {name!r} (parameters: {known})")

    def bindings(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Check ``values`` against the header and return variable -> RDF term (``None`` = unbound).

        Unknown names, missing required values and values of the wrong type raise
        ``UnknownQuery``; defaults fill what is not given.

        :raises UnknownQuery: an unknown name, a missing required value, a value of the wrong type.

        >>> get_query("features_for_gene").bindings({"gene": "KRAS"})["gene"]
        rdflib.term.Literal('KRAS')
        """
        values = dict(values or {})
        for name in values:
            self.param(name)
        bound: dict[str, Any] = {}
        for param in self.params:
            if param.name in values and values[param.name] is not None:
                bound[param.name] = coerce(param, values[param.name], query=self.name)
            elif param.default is not None:
                bound[param.name] = coerce(param, param.default, query=self.name)
            elif param.optional:
                bound[param.name] = None
            else:
                raise UnknownQuery(f"query {self.name!r} needs the parameter {param.name!r} ({param.doc or param.type})")
        return bound

    def render(self, values: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """The SPARQL to run and the bindings to pass to ``KnowledgeGraph.query``.

        The text gets ``PREFIX`` lines for igkg's prefixes it does not declare itself
        (from ``kg.core.namespaces``), so it runs on any SPARQL engine.
        With a ``#@params`` line the values go in a ``VALUES`` block there (and no
        bindings are returned); without one they are returned for ``KnowledgeGraph.query``'s ``VALUES`` block.

        :raises UnknownQuery: as ``bindings``.

        >>> sparql, bindings = get_query("features_for_gene").render({"gene": "KRAS"})
        >>> sparql.startswith("PREFIX"), bindings
        (True, {})
        """
        bound = self.bindings(values)
        sparql = with_prefixes(self.sparql)
        if not bound:
            return sparql, {}
        lines = sparql.splitlines()
        marks = [i for i, line in enumerate(lines) if line.strip() == PARAM_MARKER]
        if not marks:
            return "\n".join(lines), bound
        block = bind_values("", bound).strip()
        for i in marks:
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i] = indent + block
        return "\n".join(lines), {}


def coerce(param: Param, value: Any, *, query: str = "?") -> Any:
    """Turn a caller's value into the one RDF term the parameter's type allows.

    ``string`` -> plain literal (any text; it can never become syntax); ``iri`` -> an
    absolute IRI (refused if it holds spaces, ``<>"{}|^`\\`` or control characters);
    ``curie`` -> a known-prefix CURIE (``MESH:D009369``, ``HGNC:3236``) or an absolute
    IRI; ``number`` -> ``xsd:double``; ``integer`` -> ``xsd:integer``; ``boolean``.

    >>> coerce(Param("q", "number"), "0.05")
    rdflib.term.Literal('0.05', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#double'))
    >>> coerce(Param("t", "curie"), "MESH:D009369")
    rdflib.term.URIRef('http://id.nlm.nih.gov/mesh/D009369')
    """
    where = f"parameter {param.name!r} of query {query!r}"
    kind = param.type
    if kind == "string":
        if not isinstance(value, str):
            value = str(value)
        return Literal(value)
    if kind in ("iri", "curie"):
        text = str(value).strip()
        if kind == "curie" and "://" not in text:
            iri = expand(text)
            if iri is None:
                raise UnknownQuery(f"{where}: {text!r} is not a CURIE with a known prefix (e.g. MESH:D009369) nor an IRI")
            text = iri
        return _checked_iri(text, where)
    if kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UnknownQuery(f"{where}: {value!r} is not a number") from None
        if not math.isfinite(number) or isinstance(value, bool):
            raise UnknownQuery(f"{where}: {value!r} is not a finite number")
        return Literal(repr(number), datatype=XSD.double)
    if kind == "integer":
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", text):
            raise UnknownQuery(f"{where}: {value!r} is not an integer")
        return Literal(int(text), datatype=XSD.integer)
    if kind == "boolean":
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise UnknownQuery(f"{where}: {value!r} is not a boolean (true or false)")
        return Literal(text in ("true", "1", "yes"), datatype=XSD.boolean)
    raise UnknownQuery(f"{where}: unknown type {kind!r} (one of {', '.join(PARAM_TYPES)})")


def _checked_iri(text: str, where: str) -> URIRef:
    if not _SCHEME.match(text):
        raise UnknownQuery(f"{where}: {text!r} is not an absolute IRI")
    iri = URIRef(text)
    try:
        nt(iri)
    except ValueError:
        raise UnknownQuery(f"{where}: {text!r} is not a valid IRI (spaces, quotes, braces or control characters)") from None
    return iri


def parse_named_query(text: str, path: str | None = None) -> NamedQuery:
    """Parse a ``.rq`` file's header and keep its SPARQL; header errors name file and line.

    :raises UnknownQuery: the header is malformed (the message names file and line).

    >>> parse_named_query("# name: everything\\n# description: All triples.\\nSELECT * WHERE { ?s ?p ?o }").name
    'everything'
    >>> parse_named_query("SELECT * WHERE { ?s ?p ?o }", "any.rq")
    Traceback (most recent call last):
    ...
    kg.core.errors.UnknownQuery: any.rq: the header needs '# name: ...' and '# description: ...' lines
    """
    where = path or "<query>"
    name = description = None
    params: list[Param] = []
    extra: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        match = _HEADER_KEY.match(line)
        if not match:
            extra.append(line.lstrip("#").strip())
            continue
        key, rest = match["key"], match["rest"].strip()
        if key == "name":
            if not _NAME.match(rest):
                raise UnknownQuery(f"{where}, line {number}: query name {rest!r} must be lower_case_with_underscores")
            name = rest
        elif key == "description":
            description = rest
        else:
            found = _PARAM.match(rest)
            if not found:
                raise UnknownQuery(
                    f"{where}, line {number}: cannot read {rest!r}; write 'param: NAME: TYPE[?] [= DEFAULT] [-- doc]'"
                )
            if found["type"] not in PARAM_TYPES:
                raise UnknownQuery(f"{where}, line {number}: unknown type {found['type']!r} (one of {', '.join(PARAM_TYPES)})")
            if any(p.name == found["name"] for p in params):
                raise UnknownQuery(f"{where}, line {number}: parameter {found['name']!r} declared twice")
            default = found["default"]
            params.append(
                Param(
                    name=found["name"],
                    type=found["type"],
                    default=default if default not in (None, "") else None,
                    optional=bool(found["optional"]),
                    doc=(found["doc"] or "").strip(),
                )
            )
    if name is None or not description:
        raise UnknownQuery(f"{where}: the header needs '# name: ...' and '# description: ...' lines")
    query = NamedQuery(name=name, description=description, sparql=text, params=tuple(params), path=path, extra=tuple(extra))
    for param in query.params:  # defaults must be valid values of their type
        if param.default is not None:
            coerce(param, param.default, query=name)
        if not re.search(r"\?" + re.escape(param.name) + r"\b", text):
            raise UnknownQuery(f"{where}: parameter {param.name!r} is not used as ?{param.name} in the query")
    return query


def queries_dir() -> Path:
    """The folder of the bundled ``.rq`` files (the ``queries`` package).

    >>> (queries_dir() / "features_for_gene.rq").is_file()
    True
    """
    return Path(str(resources.files("queries")))


def _iter_files(directory: Path) -> Iterator[Path]:
    yield from sorted(directory.glob("*.rq"))


def load_queries(directory: str | Path | None = None) -> dict[str, NamedQuery]:
    """Every named query in ``directory`` (default: the bundled ``queries/``), by name, sorted.

    :raises UnknownQuery: a malformed header, or two files with the same query name.

    >>> "features_for_gene" in load_queries()
    True
    """
    folder = Path(directory) if directory is not None else queries_dir()
    files = list(_iter_files(folder))
    # parsed once per state of the folder (names, sizes, modification times): a changed file is re-read
    key = (str(folder), tuple((str(path), *_stamp(path)) for path in files))
    cached = _PARSED.get(key)
    if cached is None:
        found: dict[str, NamedQuery] = {}
        for path in files:
            query = parse_named_query(path.read_text(encoding="utf-8"), str(path))
            if query.name in found:
                raise UnknownQuery(f"{path}: query name {query.name!r} is also used by {found[query.name].path}")
            found[query.name] = query
        if len(_PARSED) >= 8:  # folders seen in other states: forget them
            _PARSED.clear()
        cached = _PARSED[key] = dict(sorted(found.items()))
    return dict(cached)


_PARSED: dict[tuple[object, ...], dict[str, NamedQuery]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def get_query(name: str, directory: str | Path | None = None) -> NamedQuery:
    """The named query ``name``.

    :raises UnknownQuery: no query has that name (the message lists the names there are).

    >>> get_query("crosswalk").name
    'crosswalk'
    """
    queries = load_queries(directory)
    try:
        return queries[name]
    except KeyError:
        raise UnknownQuery(f"no named query {name!r}; known: {', '.join(queries)}") from None


def run_named_query(kg: Any, name: str, params: Mapping[str, Any] | None = None, *, directory: str | Path | None = None) -> Any:
    """Run a named query on anything with ``query(sparql, bindings)`` (local or remote graph).

    :raises UnknownQuery: no such query, or a parameter it does not take.

    >>> from kg import KnowledgeGraph
    >>> run_named_query(KnowledgeGraph(None), "features_for_gene", {"gene": "EGFR"}).empty
    True
    """
    query = get_query(name, directory)
    sparql, bindings = query.render(params)
    logger.debug("running named query %s with %s", name, bindings)
    return kg.query(sparql, bindings or None)
