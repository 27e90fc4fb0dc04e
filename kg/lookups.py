"""Read-only helpers built from what the store holds, offered to loaders by name.

``KnowledgeGraph.load`` passes these to each load's ``LoadContext``; a loader asks
``context.lookup("genes")`` and gets a ``loaders.genes.GeneResolver`` over the genes
already loaded (``hgnc`` / ``gene-info``). Each is built lazily, once per load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loaders.genes import GeneResolver

__all__ = ["LOOKUPS"]

LOOKUPS: dict[str, Callable[[Any], Any]] = {
    "genes": lambda kg: GeneResolver.from_graph(kg),
}
"""lookup name -> factory taking the ``KnowledgeGraph``."""
