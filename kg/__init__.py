"""igkg's store, query runner, networkx view and HTTP endpoint.

>>> from kg import KnowledgeGraph
>>> KnowledgeGraph(None).query("ASK { ?s ?p ?o }")
False
"""

from __future__ import annotations

from kg.store import KnowledgeGraph
from kg.version import __version__

__all__ = ["KnowledgeGraph", "__version__"]
