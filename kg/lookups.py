"""Read-only helpers built from what the store holds, offered to loaders by name.

``KnowledgeGraph.load`` passes these to each load's ``LoadContext``; a loader asks
``context.lookup("genes")`` and gets a ``loaders.genes.GeneResolver`` over the genes
already loaded (``hgnc`` / ``gene-info``); ``context.lookup("ontology-terms")`` gives the
``OntologyTerms`` (classes, obsolete classes and their replacements) already loaded by
``obo``. Each is built lazily, once per load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kg.namespaces import OBO, OWL
from loaders.genes import GeneResolver

__all__ = ["LOOKUPS", "OntologyTerms", "ontology_terms"]


@dataclass(frozen=True)
class OntologyTerms:
    """The OBO classes a store holds: which exist, which are obsolete, and their replacements."""

    classes: frozenset[str] = frozenset()
    obsolete: frozenset[str] = frozenset()
    replaced_by: dict[str, str] = field(default_factory=dict)

    def has_prefix(self, iri_prefix: str) -> bool:
        """True when any class of that IRI prefix (e.g. the GO PURL base) is loaded."""
        return any(c.startswith(iri_prefix) for c in self.classes)


def ontology_terms(kg: Any, iri_prefix: str = str(OBO)) -> OntologyTerms:
    """Collect the ``owl:Class`` nodes under ``iri_prefix`` and their deprecation from the store."""
    rows = kg.raw_query(
        f"""SELECT ?c ?dep ?new WHERE {{
          ?c a <{OWL.Class}> . FILTER(STRSTARTS(STR(?c), "{iri_prefix}"))
          OPTIONAL {{ ?c <{OWL.deprecated}> ?dep }}
          OPTIONAL {{ ?c <{OBO.IAO_0100001}> ?new }}
        }}"""
    )
    classes, obsolete, replaced = set(), set(), {}
    for row in rows:
        iri = row["c"].value
        classes.add(iri)
        if row["dep"] is not None and row["dep"].value in ("true", "1"):
            obsolete.add(iri)
        if row["new"] is not None:
            replaced[iri] = row["new"].value
    return OntologyTerms(frozenset(classes), frozenset(obsolete), replaced)


LOOKUPS: dict[str, Callable[[Any], Any]] = {
    "genes": lambda kg: GeneResolver.from_graph(kg),
    "ontology-terms": ontology_terms,
}
"""lookup name -> factory taking the ``KnowledgeGraph``."""
