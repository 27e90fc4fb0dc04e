"""igkg: an imaging-genomics knowledge graph. The package's folders are its layers:

``kg.cli`` and ``kg.endpoint`` (the edge) -> ``kg.analysis`` -> ``kg.store`` (+ ``kg.dataplane``)
-> ``loaders`` / ``kg.query`` / ``kg.views`` -> ``kg.core``; imports point down only.

>>> from kg import KnowledgeGraph
>>> KnowledgeGraph(None).query("ASK { ?s ?p ?o }")
False
"""

from __future__ import annotations

from kg.core.version import __version__
from kg.store import KnowledgeGraph

__all__ = ["KnowledgeGraph", "__version__"]
