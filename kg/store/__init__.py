"""The store layer: the knowledge graph (embedded Oxigraph or a remote SPARQL server), its
catalog of source versions, spooling, export and the lookups offered to loaders.

>>> from kg.store import KnowledgeGraph
>>> KnowledgeGraph(None).query("ASK { ?s ?p ?o }")
False
"""

from __future__ import annotations

from kg.core.namespaces import CATALOG_GRAPH
from kg.core.settings import DEFAULT_STORE
from kg.store.graph import KnowledgeGraph, Stats
from kg.store.locations import is_remote, open_graph, store_location

__all__ = ["CATALOG_GRAPH", "DEFAULT_STORE", "KnowledgeGraph", "Stats", "is_remote", "open_graph", "store_location"]
