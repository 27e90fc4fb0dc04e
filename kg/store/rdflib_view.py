"""The rdflib view of an embedded store: what ``KnowledgeGraph.query`` shows, through rdflib's API.

oxrdflib's ``OxigraphStore`` would show every graph of the Oxigraph store, igkg's catalog
and graphs being loaded or deleted included. ``DataGraphsStore`` shows the dataset of
``KnowledgeGraph.raw_query``: the default graph (rdflib's ``default_union``) is the union of
the data graphs and the store's own default graph; the named graphs are the data graphs and
the catalog; a hidden graph (a load in progress or interrupted, a version being deleted,
the pending-load marks) is empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from oxrdflib._converter import from_ox, from_ox_graph_name, to_ox, to_ox_quad_pattern
from rdflib import Graph
from rdflib.query import Result
from rdflib.term import Identifier, Node, Variable

from kg.core.namespaces import CATALOG_GRAPH

__all__ = ["DataGraphsStore"]


class DataGraphsStore(OxigraphStore):
    """oxrdflib's store over ``kg.store`` with igkg's dataset (see the module docstring).

    >>> from rdflib import Dataset
    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> 1 } }")
    >>> len(Dataset(store=DataGraphsStore(kg), default_union=True))
    1
    """

    def __init__(self, kg: Any) -> None:
        """A view of ``kg`` (an embedded ``KnowledgeGraph``), reading its store live."""
        super().__init__(store=kg.store)
        self._kg = kg

    def _union(self) -> list[Any]:
        return [*self._kg._data_graph_nodes(), ox.DefaultGraph()]

    def _shown(self, graph: Any) -> bool:
        """Whether a graph name of the store is a graph of the view."""
        if graph is None or isinstance(graph, ox.DefaultGraph):
            return True
        return graph.value == CATALOG_GRAPH or graph in self._kg._data_graph_nodes()

    def triples(self, triple_pattern: Any, context: Graph | None = None) -> Iterator[Any]:
        """The matching triples of ``context``, or of the data graphs' union without one.

        >>> from rdflib import URIRef
        >>> from kg import KnowledgeGraph
        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> [str(s) for (s, _, _), _ in DataGraphsStore(kg).triples((None, URIRef("urn:example:b"), None))]
        ['urn:example:a']
        """
        try:
            s, p, o, g = to_ox_quad_pattern(triple_pattern, context)
        except (TypeError, ValueError):
            return iter(())
        if g is None:
            quads = chain.from_iterable(self._inner.quads_for_pattern(s, p, o, graph) for graph in self._union())
        elif self._shown(g):
            quads = self._inner.quads_for_pattern(s, p, o, g)
        else:
            return iter(())
        return (
            ((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)), iter((from_ox_graph_name(q.graph_name, self),)))
            for q in quads
        )

    def __len__(self, context: Graph | None = None) -> int:
        """Distinct triples of ``context``, or of the data graphs' union without one."""
        if context is None:
            graphs = self._union()
        else:
            graph = to_ox(context)
            if not self._shown(graph):
                return 0
            graphs = [graph]
        rows = self._inner.query("SELECT (COUNT(DISTINCT TRIPLE(?s, ?p, ?o)) AS ?c) WHERE { ?s ?p ?o }", default_graph=graphs)
        return int(next(iter(rows))[0].value)  # type: ignore[index]

    def contexts(self, triple: Any = None) -> Iterator[Graph]:
        """The data graphs and the catalog (those holding ``triple`` when given).

        >>> from kg import KnowledgeGraph
        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> [str(graph.identifier) for graph in DataGraphsStore(kg).contexts()]
        ['urn:example:g']
        """
        if triple is None:
            names = [*self._kg._data_graph_nodes(), ox.NamedNode(CATALOG_GRAPH)]
            return (from_ox_graph_name(g, self) for g in names if self._inner.contains_named_graph(g))
        return (
            from_ox_graph_name(q.graph_name, self)
            for q in self._inner.quads_for_pattern(*to_ox_quad_pattern(triple))
            if not isinstance(q.graph_name, ox.DefaultGraph) and self._shown(q.graph_name)
        )

    def query(
        self,
        query: Any,
        initNs: Mapping[str, Any],
        initBindings: Mapping[str, Identifier],
        queryGraph: Any,
        **kwargs: object,
    ) -> Result:
        """Evaluate with the dataset of ``KnowledgeGraph.raw_query`` (``queryGraph`` a graph: that graph).

        :raises NotImplementedError: an already parsed query, or a keyword argument.

        >>> from kg import KnowledgeGraph
        >>> kg = KnowledgeGraph(None)
        >>> kg.update("INSERT DATA { GRAPH <urn:example:g> { <urn:example:a> <urn:example:b> <urn:example:c> } }")
        >>> DataGraphsStore(kg).query("ASK { <urn:example:a> <urn:example:b> ?o }", {}, {}, "__UNION__").askAnswer
        True
        """
        if not isinstance(query, str):
            raise NotImplementedError("already parsed queries are not supported by the Oxigraph store")
        for kwarg in kwargs:
            raise NotImplementedError(f"the parameter {kwarg} is not supported by the Oxigraph store")
        if isinstance(queryGraph, Node):
            graph = to_ox(queryGraph)
            dataset = self._kg._dataset_options(query, default_graph=[graph] if self._shown(graph) else [])
        else:
            dataset = self._kg._dataset_options(query, union=queryGraph == "__UNION__")
        result = self._inner.query(
            query,
            prefixes=dict(self._namespace_for_prefix, **initNs),
            substitutions={ox.Variable(k): to_ox(v) for k, v in initBindings.items()},
            **dataset,
        )
        if isinstance(result, ox.QueryBoolean):
            out = Result("ASK")
            out.askAnswer = bool(result)
        elif isinstance(result, ox.QuerySolutions):
            out = Result("SELECT")
            out.vars = [Variable(v.value) for v in result.variables]
            out.bindings = ({v: from_ox(val) for v, val in zip(out.vars, solution)} for solution in result)
        else:
            out = Result("CONSTRUCT")
            out.graph = Graph()
            out.graph += (from_ox(t) for t in result)
        return out
