"""Where the store is, and opening it: an on-disk folder, memory, or a ``sparql+http(s)://`` server."""

from __future__ import annotations

import os
from pathlib import Path

from kg.core.errors import StoreError
from kg.core.settings import Settings
from kg.store.graph import KnowledgeGraph

__all__ = ["REMOTE_SCHEMES", "is_remote", "open_graph", "store_location"]

REMOTE_SCHEMES = ("sparql+http://", "sparql+https://")
"""Store locations with these schemes name a remote SPARQL 1.1 server."""


def store_location(value: str | os.PathLike[str] | None = None) -> str:
    """The store location: the argument, else ``IGKG_STORE``, else ``./igkg-data``.

    >>> store_location("/tmp/store")
    '/tmp/store'
    """
    if value is not None:
        return str(value)
    return Settings.from_env().store


def is_remote(location: str) -> bool:
    """Whether ``location`` names a remote SPARQL server (``sparql+http(s)://``).

    >>> is_remote("sparql+https://example.org/sparql"), is_remote("./igkg-data")
    (True, False)
    """
    return location.startswith(REMOTE_SCHEMES)


def open_graph(location: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> KnowledgeGraph:
    """The knowledge graph at ``location`` (see ``store_location``): embedded or remote.

    With ``read_only`` an existing on-disk store is opened for writing when nobody else
    holds it (so that the remains of an interrupted load are cleared first) and read-only
    beside a running server.

    >>> with open_graph(":memory:") as kg:
    ...     kg.query("ASK { ?s ?p ?o }")
    False

    :raises StoreError: the store cannot be opened.
    """
    where = store_location(location)
    if is_remote(where):
        from kg.store.remote import RemoteKnowledgeGraph

        return RemoteKnowledgeGraph(where, read_only=read_only)
    if read_only and Path(where).exists():
        try:
            return KnowledgeGraph(where)
        except StoreError:
            return KnowledgeGraph(where, read_only=True)
    return KnowledgeGraph(where)
