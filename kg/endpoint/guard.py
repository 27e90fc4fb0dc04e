"""Safety checks on the parsed SPARQL, before anything is evaluated.

A query or update is parsed with rdflib's SPARQL grammar (which expands ``\\uXXXX``
escapes first, as SPARQL requires, so ``\\u0053ERVICE`` is seen as ``SERVICE``) and the
parse tree is walked: ``SERVICE`` to an IRI outside the allow-list, ``SERVICE ?var``,
``LOAD`` from outside the allow-list, and ``file:`` IRIs in ``FROM``/``FROM NAMED``/
``USING``/``LOAD``/``SERVICE`` are refused. Oxigraph has an HTTP client, so this check
is what keeps the endpoint from opening sockets on a client's behalf. What cannot be
parsed is refused too (fail closed) with the parser's position.

rdflib's parser recurses about 25 Python frames per nested group or parenthesis, so a
query with many brackets is parsed in a thread with a large stack and a recursion limit
sized to its bracket count (up to ``MAX_NESTING`` levels, deeper than real queries go);
the parse tree is walked without recursion.

>>> check_query("SELECT * WHERE { ?s ?p ?o }").form
'SELECT'
>>> check_query("SELECT * WHERE { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }")
Traceback (most recent call last):
...
kg.core.errors.QueryRefused: SERVICE <http://169.254.169.254/> is not allowed by this endpoint (allowed: none)
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kg.core.errors import QueryRefused, QuerySyntaxError
from kg.core.namespaces import PREFIXES

__all__ = ["MAX_NESTING", "QueryInfo", "check_iri_list", "check_query", "check_update"]

MAX_NESTING = 400
"""Most brackets (``{`` and ``(``) a query may have for the parse to get a deep stack; past it
a query nested too deeply for the parser is refused (400) instead of crashing a worker."""

_INLINE_BRACKETS = 12  # below this many brackets the parse cannot hit the default recursion limit
_FRAMES_PER_LEVEL = 60
_STACK_BYTES = 64 * 1024 * 1024  # depth 400 needs about 16 MiB
_deep_lock = threading.Lock()


@dataclass(frozen=True)
class QueryInfo:
    """What the guard learnt from the parse: the query form and whether it names its dataset."""

    form: str
    has_dataset: bool
    dataset: tuple[str, ...] = ()
    """The IRIs of its ``FROM`` and ``FROM NAMED`` clauses."""


_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}


def check_query(text: str, allowed: Sequence[str] = ()) -> QueryInfo:
    """Parse a query and refuse what may reach outside the store; returns its form."""
    from rdflib.plugins.sparql import parser

    try:
        parsed = _parse(parser.parseQuery, text)
    except QuerySyntaxError:
        raise
    except Exception as exc:  # pyparsing's ParseException and rdflib's own errors
        raise QuerySyntaxError(f"malformed query: {_parse_message(exc)}") from None
    prologue = _prologue(parsed[0])
    body = parsed[1]
    form = _FORMS.get(body.name)
    if form is None:
        raise QuerySyntaxError(f"not a SPARQL query form: {body.name}")
    dataset: list[str] = []
    for node in _walk(parsed):
        if node.name == "DatasetClause":
            iri = _resolve(prologue, _field(node, "default", "named"))
            _refuse_file(iri, "FROM")
            dataset.append(iri)
        elif node.name == "ServiceGraphPattern":
            _check_service(prologue, _field(node, "term"), allowed)
    return QueryInfo(form=form, has_dataset=bool(dataset), dataset=tuple(dataset))


def check_update(text: str, allowed: Sequence[str] = ()) -> None:
    """Parse an update and refuse ``LOAD``/``SERVICE`` outside the allow-list and ``file:`` IRIs."""
    from rdflib.plugins.sparql import parser

    try:
        parsed = _parse(parser.parseUpdate, text)
    except QuerySyntaxError:
        raise
    except Exception as exc:
        raise QuerySyntaxError(f"malformed update: {_parse_message(exc)}") from None
    prologues = list(dict.get(parsed, "prologue") or [])
    requests = list(dict.get(parsed, "request") or [])
    prologue = None
    for index, request in enumerate(requests):
        # Prefixes and BASE declared by an earlier operation hold for the later ones.
        prologue = _prologue(prologues[index] if index < len(prologues) else [], prologue)
        for node in _walk(request):
            if node.name == "Load":
                iri = _resolve(prologue, _field(node, "iri"))
                _refuse_file(iri, "LOAD")
                if not any(iri.startswith(p) for p in allowed):
                    raise QueryRefused(f"LOAD <{iri}> is not allowed by this endpoint ({_allowed_text(allowed)})")
            elif node.name == "ServiceGraphPattern":
                _check_service(prologue, _field(node, "term"), allowed)
            elif node.name == "UsingClause":
                iri = _resolve(prologue, _field(node, "default", "named"))
                _refuse_file(iri, "USING")


def check_iri_list(iris: Sequence[str], parameter: str) -> None:
    """Refuse ``file:`` (and non-absolute) IRIs in ``default-graph-uri``/``named-graph-uri``."""
    for iri in iris:
        if ":" not in iri or any(c in iri for c in " <>\"{}|^`\\"):
            raise QuerySyntaxError(f"{parameter}={iri!r} is not an absolute IRI")
        _refuse_file(iri, parameter)


def _check_service(prologue: Any, term: Any, allowed: Sequence[str]) -> None:
    from rdflib import Variable

    if isinstance(term, Variable):
        raise QueryRefused(f"SERVICE ?{term} (an endpoint chosen at run time) is not allowed by this endpoint")
    iri = _resolve(prologue, term)
    _refuse_file(iri, "SERVICE")
    if not any(iri.startswith(p) for p in allowed):
        raise QueryRefused(f"SERVICE <{iri}> is not allowed by this endpoint ({_allowed_text(allowed)})")


def _field(node: Any, *keys: str) -> Any:
    """The first present field of a parse-tree node (``CompValue.get`` answers the key itself when absent)."""
    for key in keys:
        if key in node:
            return dict.__getitem__(node, key)
    raise QuerySyntaxError(f"malformed {node.name}: none of {', '.join(keys)}")


def _allowed_text(allowed: Sequence[str]) -> str:
    return "allowed: " + (", ".join(allowed) if allowed else "none")


def _refuse_file(iri: str, where: str) -> None:
    if iri.lower().startswith("file:"):
        raise QueryRefused(f"{where} <{iri}>: file: IRIs are not allowed by this endpoint")


def _prologue(node: Any, previous: Any = None) -> Any:
    from rdflib.plugins.sparql.algebra import translatePrologue

    try:
        if previous is not None:
            return translatePrologue(node, None, prologue=previous)
        return translatePrologue(node, None, initNs=PREFIXES)
    except Exception as exc:
        raise QuerySyntaxError(f"malformed prologue: {exc}") from None


def _resolve(prologue: Any, term: Any) -> str:
    """An IRI or prefixed name of the parse tree as an absolute IRI string."""
    try:
        return str(prologue.absolutize(term))
    except Exception as exc:  # an undeclared prefix
        raise QuerySyntaxError(f"malformed query: {exc}") from None


def _walk(node: Any) -> Iterator[Any]:
    """Every ``CompValue`` of rdflib's parse tree, depth first."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, (ParseResults, list, tuple)):
            stack.extend(item)


def _parse(parse: Callable[[str], Any], text: str) -> Any:
    """``parse(text)``, in a thread with a deep stack when the text has many brackets.

    :raises QuerySyntaxError: more than ``MAX_NESTING`` brackets nested too deeply to parse.
    """
    brackets = text.count("{") + text.count("(")
    if brackets <= _INLINE_BRACKETS:
        return parse(text)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["parsed"] = parse(text)
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc

    # The recursion limit is per process: raise it for the parse, under a lock, and restore it.
    # The garbage collector is paused meanwhile (after a collection here): objects bound to
    # this thread, such as pyoxigraph results in a reference cycle, must not be freed there.
    with _deep_lock:
        gc.collect()
        collecting = gc.isenabled()
        gc.disable()
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(max(previous, 1000 + _FRAMES_PER_LEVEL * min(brackets, MAX_NESTING)))
        size = threading.stack_size()
        try:
            threading.stack_size(_STACK_BYTES)
            thread = threading.Thread(target=work, name="igkg-guard-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(size)
        thread.join()
        sys.setrecursionlimit(previous)
        if collecting:
            gc.enable()
    error = outcome.get("error")
    if isinstance(error, RecursionError):
        raise QuerySyntaxError(
            f"the query nests groups or parentheses too deeply to check (at most about {MAX_NESTING} levels)"
        ) from None
    if error is not None:
        raise error
    return outcome["parsed"]


def _parse_message(exc: BaseException) -> str:
    """pyparsing's message carries line and column; keep it on one line."""
    return " ".join(str(exc).split())
