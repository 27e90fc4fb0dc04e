"""Writing a store (or one graph) as N-Quads, TriG, Turtle, N-Triples or RDF/XML."""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from itertools import chain
from typing import IO, Any

import pyoxigraph as ox

from kg.core.errors import StoreError
from kg.core.namespaces import PREFIXES

__all__ = ["EXPORT_FORMATS", "export_store"]

EXPORT_FORMATS: dict[str, ox.RdfFormat] = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
"""The ``--format`` names of ``igkg export`` and their pyoxigraph formats."""


def export_store(
    store: Any,
    output: str | os.PathLike[str] | IO[bytes],
    *,
    format: str = "nquads",  # noqa: A002 - the CLI's word
    graph: str | None = None,
    graphs: Sequence[str] | None = None,
) -> None:
    """Write ``store`` (a pyoxigraph ``Store`` or a backend with its ``dump``/``query``) to ``output``.

    A path ending in ``.gz`` is compressed. Without ``graph``: every graph, or only the named
    graphs ``graphs`` and the default graph when given (a pyoxigraph ``Store``); triple
    formats write their union.

    :raises StoreError: the format is unknown.

    >>> import io
    >>> import pyoxigraph as ox
    >>> store = ox.Store()
    >>> store.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
    >>> out = io.BytesIO()
    >>> export_store(store, out, format="nquads")
    >>> out.getvalue()
    b'<urn:example:a> <urn:example:b> <urn:example:c> <urn:example:g> .\\n'
    """
    try:
        fmt = EXPORT_FORMATS[format]
    except KeyError:
        raise StoreError(f"unknown export format {format!r}; one of {', '.join(EXPORT_FORMATS)}") from None
    target: Any = str(output) if isinstance(output, (str, os.PathLike)) else output
    if isinstance(target, str) and target.endswith(".gz"):
        with gzip.open(target, "wb") as handle:
            export_store(store, handle, format=format, graph=graph, graphs=graphs)
        return
    prefixes = PREFIXES if fmt != ox.RdfFormat.N_TRIPLES else None
    if graph is not None:
        store.dump(target, fmt, from_graph=ox.NamedNode(graph), prefixes=prefixes)
    elif graphs is not None and isinstance(store, ox.Store):
        names = [ox.DefaultGraph(), *(ox.NamedNode(g) for g in graphs)]
        quads = chain.from_iterable(store.quads_for_pattern(None, None, None, name) for name in names)
        if fmt.supports_datasets:
            ox.serialize(quads, target, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        else:
            ox.serialize((q.triple for q in quads), target, fmt, prefixes=prefixes)
    elif fmt.supports_datasets:
        store.dump(target, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
    else:
        triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
        ox.serialize(triples, target, fmt, prefixes=prefixes)
