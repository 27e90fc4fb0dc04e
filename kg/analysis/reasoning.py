"""OWL reasoning with owlready2 + HermiT: classify the TBox, materialise inferences into one graph.

``materialise(kg)`` gathers the TBox (``ontologies/igkg.ttl`` plus every class axiom the
store holds: OBO classes with their ``rdfs:subClassOf``, existential restrictions,
equivalences and disjointness, property axioms) and the class assertions of individuals,
classifies them with HermiT (Pellet on request) through owlready2, and writes what is
entailed but not stated into ONE named graph, ``inferences/owlready2``, through
``KnowledgeGraph.ingest`` (which replaces the previous version), so plain SPARQL sees it:

* ``C rdfs:subClassOf D`` for every entailed named superclass (``?c rdfs:subClassOf
  obo:MONDO_0005070`` then lists every neoplasm, at any depth);
* ``C owl:equivalentClass D`` for entailed equivalences between named classes;
* ``i rdf:type D`` for every entailed class of an individual (``?f a igkg:TextureFeature``
  then returns GLCM, GLRLM, GLSZM ... features);
* an OBO relation graph, as Ubergraph publishes it: ``C obo:BFO_0000050 D`` (part_of) when
  ``C`` is (entailed to be) a subclass of ``part_of some D``, closed under is_a and the
  transitivity of part_of, so ``(rdfs:subClassOf|obo:BFO_0000050)*`` walks a GO is_a/part_of
  closure.

Individuals are realised by type-set: two individuals with the same asserted classes have the
same entailed classes (only class assertions are given to the reasoner and the TBox has no
nominals), so HermiT sees one representative per distinct set. Domain/range typing from
property assertions is not derived.

An inconsistent graph is reported, not written: ``ReasoningReport.explanation`` names the
offending individuals, their asserted classes, the disjointness axioms they violate and the
source graphs that state the types (found by bisection over the type-sets). Classes the
reasoner finds unsatisfiable are listed with their told superclasses and disjointness axioms.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from kg.core.errors import ConfigError, IgkgError
from kg.core.namespaces import CATALOG_GRAPH, GRAPH_BASE, OBO, OWL, RDF, RDFS, compress
from kg.core.terms import nt

__all__ = [
    "INFERENCE_KEY",
    "PART_OF",
    "ReasoningReport",
    "collect_input",
    "materialise",
]

logger = logging.getLogger(__name__)

INFERENCE_KEY = "inferences/owlready2"
"""The source key of the one named graph the inferences are written to."""

PART_OF = OBO.BFO_0000050
"""part_of, the transitive relation the OBO relation graph is materialised for."""

_INFERENCE_PREFIX = GRAPH_BASE + "inferences/"
_CATALOG = CATALOG_GRAPH
_OWL_THING = str(OWL.Thing)
_OWL_NOTHING = str(OWL.Nothing)

# TBox-shaped triples: declarations and axioms about classes and properties (not ABox).
_TBOX_QUERY = f"""
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  GRAPH ?g {{ ?s ?p ?o }}
  FILTER (!STRSTARTS(STR(?g), "{_INFERENCE_PREFIX}") && STR(?g) != "{_CATALOG}")
  FILTER (
    ?p IN (rdfs:subClassOf, owl:equivalentClass, owl:disjointWith, rdfs:subPropertyOf, owl:inverseOf,
           rdfs:domain, rdfs:range, owl:propertyDisjointWith, owl:equivalentProperty)
    || (?p = rdf:type && ?o IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, owl:TransitiveProperty,
                                 owl:SymmetricProperty, owl:FunctionalProperty, owl:AllDisjointClasses,
                                 owl:Restriction))
    || (isBlank(?s) && ?p IN (owl:onProperty, owl:someValuesFrom, owl:allValuesFrom, owl:intersectionOf,
                              owl:unionOf, owl:complementOf, owl:members, rdf:first, rdf:rest, owl:hasValue,
                              owl:oneOf, owl:minCardinality, owl:maxCardinality, owl:cardinality,
                              owl:qualifiedCardinality, owl:minQualifiedCardinality, owl:maxQualifiedCardinality,
                              owl:onClass))
  )
}}"""

# Class assertions of individuals (not of classes), with the graph that states them.
_TYPES_QUERY = f"""
SELECT DISTINCT ?i ?c ?g WHERE {{
  GRAPH ?g {{ ?i a ?c }}
  FILTER (!STRSTARTS(STR(?g), "{_INFERENCE_PREFIX}") && STR(?g) != "{_CATALOG}" && isIRI(?i) && isIRI(?c))
  FILTER (?c NOT IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, owl:AnnotationProperty,
                     owl:TransitiveProperty, owl:SymmetricProperty, owl:FunctionalProperty, owl:Ontology,
                     owl:Restriction, owl:AllDisjointClasses, rdfs:Class, rdf:Property))
}}"""

_GRAPHS_QUERY = f"""
SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (!STRSTARTS(STR(?g), "{_INFERENCE_PREFIX}") && STR(?g) != "{_CATALOG}") }}"""


@dataclass
class ReasoningReport:
    """What one reasoning run found and wrote.

    >>> ReasoningReport(reasoner="hermit", consistent=False, explanation=["x is a Gene and a Pathway"]).summary()
    'INCONSISTENT: x is a Gene and a Pathway'
    """

    reasoner: str
    consistent: bool = True
    classes: int = 0
    individuals: int = 0
    type_sets: int = 0
    inferred_subclass: int = 0
    inferred_equivalent: int = 0
    inferred_types: int = 0
    relation_edges: int = 0
    unsatisfiable: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    graph: str | None = None
    skipped: bool = False

    def summary(self) -> str:
        """One paragraph for people.

        >>> ReasoningReport(reasoner="hermit", classes=3, graph="urn:example:g").summary()
        'hermit: 3 classes, 0 individuals (0 type-sets); inferred 0 subclass, 0 equivalence, 0 type and 0 part_of triples into urn:example:g'
        """
        if not self.consistent:
            return "INCONSISTENT: " + "; ".join(self.explanation)
        text = (
            f"{self.reasoner}: {self.classes} classes, {self.individuals} individuals ({self.type_sets} type-sets); "
            f"inferred {self.inferred_subclass} subclass, {self.inferred_equivalent} equivalence, "
            f"{self.inferred_types} type and {self.relation_edges} part_of triples into {self.graph}"
        )
        if self.skipped:
            text += " (unchanged)"
        if self.unsatisfiable:
            text += "; unsatisfiable: " + "; ".join(self.explanation)
        return text


@dataclass
class _Input:
    tbox: Graph
    types: dict[str, set[str]]
    sources: dict[tuple[str, str], set[str]]
    graphs: list[str]


def _igkg_ontology() -> Graph:
    graph = Graph()
    text = resources.files("ontologies").joinpath("igkg.ttl").read_text(encoding="utf-8")
    graph.parse(data=text, format="turtle")
    return graph


def collect_input(kg: Any) -> _Input:
    """The TBox (igkg.ttl + the store's class and property axioms) and class assertions, via ``kg.query``.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Mutant,1.5\\nP2,Wildtype,2.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> data = collect_input(kg)
    >>> "https://w3id.org/igkg/id/subject/P1" in data.types, len(data.tbox) > 100
    (True, True)
    """
    tbox = _igkg_ontology()
    found = kg.query(_TBOX_QUERY)
    if not isinstance(found, Graph):
        raise IgkgError("the TBox query did not return a graph")
    tbox += found
    classes = _named_classes(tbox)
    types: dict[str, set[str]] = defaultdict(set)
    sources: dict[tuple[str, str], set[str]] = defaultdict(set)
    frame = kg.query(_TYPES_QUERY)
    for i, c, g in frame[["i", "c", "g"]].itertuples(index=False):
        if c in classes and i not in classes:
            types[i].add(c)
            sources[(i, c)].add(g)
    graphs = sorted(kg.query(_GRAPHS_QUERY)["g"])
    return _Input(tbox=tbox, types=dict(types), sources=dict(sources), graphs=graphs)


def _named_classes(tbox: Graph) -> set[str]:
    classes = {str(s) for s in tbox.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}
    for s, o in tbox.subject_objects(RDFS.subClassOf):
        for term in (s, o):
            if isinstance(term, URIRef):
                classes.add(str(term))
    classes.discard(_OWL_THING)
    return classes


def _has_nominals(tbox: Graph) -> bool:
    return any(True for _ in tbox.triples((None, OWL.oneOf, None))) or any(
        True for _ in tbox.triples((None, OWL.hasValue, None))
    )


# ---------------------------------------------------------------------- owlready2
class _Inconsistent(Exception):
    pass


def _run_owlready(tbox: Graph, individuals: dict[str, set[str]], reasoner: str) -> Any:
    """Load TBox + class assertions into a fresh owlready2 World and classify; returns the World."""
    import owlready2

    world = owlready2.World()
    data = Graph()
    data += tbox
    for i, classes in individuals.items():
        data.add((URIRef(i), RDF.type, OWL.NamedIndividual))
        for c in classes:
            data.add((URIRef(i), RDF.type, URIRef(c)))
    handle, name = tempfile.mkstemp(prefix="igkg-tbox-", suffix=".nt")
    os.close(handle)
    try:
        with open(name, "w", encoding="utf-8") as out:
            out.write("".join(_nt_line(t) for t in data))
        onto = world.get_ontology(Path(name).as_uri()).load(format="ntriples")
        sync = owlready2.sync_reasoner_pellet if reasoner == "pellet" else owlready2.sync_reasoner_hermit
        try:
            with onto:
                sync(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            raise _Inconsistent(str(exc)) from None
        except owlready2.OwlReadyJavaError as exc:
            raise IgkgError(f"the {reasoner} reasoner failed: {str(exc).strip()[:2000]}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return world


def _nt_line(triple: tuple[Node, Node, Node]) -> str:
    s, p, o = triple
    return f"{nt(s)} {nt(p)} {nt(o)} .\n"


def _consistent(tbox: Graph, individuals: dict[str, set[str]], reasoner: str) -> bool:
    try:
        _run_owlready(tbox, individuals, reasoner)
    except _Inconsistent:
        return False
    return True


# ---------------------------------------------------------------------- explanations
def _told_ancestors(tbox: Graph) -> Callable[[str], set[str]]:
    parents: dict[str, set[str]] = defaultdict(set)
    for s, o in tbox.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            parents[str(s)].add(str(o))
    for s, o in tbox.subject_objects(OWL.equivalentClass):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            parents[str(s)].add(str(o))
            parents[str(o)].add(str(s))

    def ancestors(c: str) -> set[str]:
        seen, todo = {c}, [c]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    return ancestors


def _disjoint_pairs(tbox: Graph) -> list[tuple[str, str, str]]:
    """(class, class, how stated) for every disjointness axiom between named classes."""
    pairs = [
        (str(a), str(b), f"{compress(str(a))} owl:disjointWith {compress(str(b))}")
        for a, b in tbox.subject_objects(OWL.disjointWith)
        if isinstance(a, URIRef) and isinstance(b, URIRef)
    ]
    for axiom in tbox.subjects(RDF.type, OWL.AllDisjointClasses):
        for members in tbox.objects(axiom, OWL.members):
            names = [str(m) for m in Graph.items(tbox, members) if isinstance(m, URIRef)]
            text = "AllDisjointClasses(" + ", ".join(compress(m) for m in names) + ")"
            pairs += [(a, b, text) for n, a in enumerate(names) for b in names[n + 1 :]]
    return pairs


def _explain_set(classes: frozenset[str], tbox: Graph) -> list[str]:
    ancestors = _told_ancestors(tbox)
    closure = {c: ancestors(c) for c in classes}
    found = []
    for a, b, text in _disjoint_pairs(tbox):
        holders_a = sorted(c for c, up in closure.items() if a in up)
        holders_b = sorted(c for c, up in closure.items() if b in up)
        if holders_a and holders_b:
            found.append(
                f"{text} (asserted {', '.join(compress(c) for c in holders_a)} "
                f"and {', '.join(compress(c) for c in holders_b)})"
            )
    return found or ["no single disjointness axiom explains it; the asserted classes together are unsatisfiable"]


def _find_culprits(tbox: Graph, groups: dict[frozenset[str], list[str]], reasoner: str, limit: int = 3) -> list[frozenset[str]]:
    """Type-sets that are inconsistent on their own, found by bisection (a few reasoner runs)."""
    culprits: list[frozenset[str]] = []
    remaining: list[frozenset[str]] = list(groups)
    while remaining and len(culprits) < limit:
        candidates = remaining
        if _consistent(tbox, {groups[s][0]: set(s) for s in candidates}, reasoner):
            break
        while len(candidates) > 1:
            half = candidates[: len(candidates) // 2]
            if not _consistent(tbox, {groups[s][0]: set(s) for s in half}, reasoner):
                candidates = half
            else:
                candidates = candidates[len(candidates) // 2 :]
        culprits.append(candidates[0])
        remaining = [s for s in remaining if s != candidates[0]]
    return culprits


def _explain_inconsistency(data: _Input, groups: dict[frozenset[str], list[str]], reasoner: str) -> list[str]:
    if not _consistent(data.tbox, {}, reasoner):
        axioms = [text for _a, _b, text in _disjoint_pairs(data.tbox)]
        return ["the ontology (TBox) is inconsistent on its own; disjointness axioms: " + "; ".join(axioms[:20])]
    lines = []
    for culprit in _find_culprits(data.tbox, groups, reasoner):
        members = sorted(groups[culprit])
        where = sorted({g for i in members[:50] for c in culprit for g in data.sources.get((i, c), ())})
        examples = ", ".join(members[:5]) + (f" and {len(members) - 5} more" if len(members) > 5 else "")
        lines.append(
            f"{examples} typed {', '.join(sorted(compress(c) for c in culprit))} "
            f"(stated in {', '.join(where) or 'unknown graphs'}): " + "; ".join(_explain_set(culprit, data.tbox))
        )
    return lines or ["the reasoner reports an inconsistency that no single type-set reproduces"]


def _explain_unsatisfiable(classes: Iterable[str], tbox: Graph) -> list[str]:
    lines = []
    for c in sorted(classes):
        told = sorted(compress(str(o)) for o in tbox.objects(URIRef(c), RDFS.subClassOf) if isinstance(o, URIRef))
        lines.append(f"{compress(c)} is unsatisfiable (told superclasses {', '.join(told) or 'none'}): "
                     + "; ".join(_explain_set(frozenset({c}), tbox)))
    return lines


# ---------------------------------------------------------------------- materialising
def materialise(kg: Any, *, reasoner: str = "hermit") -> ReasoningReport:
    """Classify, then replace the ``inferences/owlready2`` graph with what is entailed but not stated.

    Reads through ``kg.query`` and writes through ``kg.ingest``. An inconsistent graph raises
    nothing and writes nothing: the report says ``consistent=False`` with the explanation.

    :raises ConfigError: an unknown reasoner.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean\\nP1,Mutant,1.5\\nP2,Wildtype,2.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> report = materialise(kg)   # HermiT (Java) through owlready2: a few seconds
    >>> report.consistent, report.graph.startswith("https://w3id.org/igkg/graph/inferences/owlready2/")
    (True, True)
    >>> materialise(kg, reasoner="fact++")
    Traceback (most recent call last):
    ...
    kg.core.errors.ConfigError: unknown reasoner 'fact++'; hermit or pellet
    """
    if reasoner not in ("hermit", "pellet"):
        raise ConfigError(f"unknown reasoner {reasoner!r}; hermit or pellet")
    data = collect_input(kg)
    report = ReasoningReport(reasoner=reasoner)
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for i, classes in sorted(data.types.items()):
        groups[frozenset(classes)].append(i)
    report.classes = len(_named_classes(data.tbox))
    report.individuals = len(data.types)
    report.type_sets = len(groups)
    if _has_nominals(data.tbox):
        representatives = {i: set(cs) for i, cs in data.types.items()}
    else:
        representatives = {members[0]: set(s) for s, members in groups.items()}
    logger.info("classifying %d classes and %d type-sets with %s", report.classes, len(groups), reasoner)
    try:
        world = _run_owlready(data.tbox, representatives, reasoner)
    except _Inconsistent:
        report.consistent = False
        report.explanation = _explain_inconsistency(data, groups, reasoner)
        logger.warning("inconsistent: %s", report.explanation)
        return report
    triples = list(_inferred(world, data, groups, representatives, report))
    triples += _relation_graph(world, data.tbox, report)
    triples = sorted(set(triples))  # a stable order: unchanged inferences leave the graph as it is
    result = kg.ingest(
        INFERENCE_KEY,
        triples,
        kind="inferences",
        parameters={"reasoner": reasoner, "engine": "owlready2"},
        used=data.graphs,
    )
    report.graph = getattr(result, "graph", None)
    report.skipped = bool(getattr(result, "skipped", False))
    return report


def _inferred(
    world: Any,
    data: _Input,
    groups: dict[frozenset[str], list[str]],
    representatives: dict[str, set[str]],
    report: ReasoningReport,
) -> Iterable[tuple[Node, Node, Node]]:
    stated_sub = {(str(s), str(o)) for s, o in data.tbox.subject_objects(RDFS.subClassOf)}
    stated_eq = {(str(s), str(o)) for s, o in data.tbox.subject_objects(OWL.equivalentClass)}
    classes = _named_classes(data.tbox)
    unsatisfiable = {c.iri for c in world.inconsistent_classes() if hasattr(c, "iri")}
    if unsatisfiable:
        report.unsatisfiable = sorted(unsatisfiable)
        report.explanation = _explain_unsatisfiable(unsatisfiable, data.tbox)
    for iri in sorted(classes):
        cls = world[iri]
        if cls is None or iri in unsatisfiable:
            continue
        for ancestor in cls.ancestors(include_self=False):
            up = getattr(ancestor, "iri", None)
            if up and up in classes and up != _OWL_THING and (iri, up) not in stated_sub:
                report.inferred_subclass += 1
                yield URIRef(iri), RDFS.subClassOf, URIRef(up)
        for same in cls.equivalent_to:
            other = getattr(same, "iri", None)
            if other and other in classes and other != iri and (iri, other) not in stated_eq and (other, iri) not in stated_eq:
                report.inferred_equivalent += 1
                yield URIRef(iri), OWL.equivalentClass, URIRef(other)
    represented: dict[str, list[str]] = (
        {members[0]: members for members in groups.values()}
        if len(representatives) == len(groups)
        else {i: [i] for i in representatives}
    )
    for rep in sorted(representatives):
        individual = world[rep]
        if individual is None:
            continue
        entailed = {getattr(c, "iri", None) for c in individual.INDIRECT_is_a}
        extra = {c for c in entailed if c and c in classes and c != _OWL_THING} - representatives[rep]
        for c in sorted(extra):
            for i in represented.get(rep, [rep]):
                report.inferred_types += 1
                yield URIRef(i), RDF.type, URIRef(c)


def _relation_graph(world: Any, tbox: Graph, report: ReasoningReport) -> list[tuple[Node, Node, Node]]:
    """``C part_of D`` edges: from ``C ⊑ part_of some D``, closed under is_a (both sides) and transitivity."""
    direct: dict[str, set[str]] = defaultdict(set)
    for c, restriction in tbox.subject_objects(RDFS.subClassOf):
        if not isinstance(c, URIRef) or not isinstance(restriction, BNode):
            continue
        if (restriction, OWL.onProperty, PART_OF) not in tbox:
            continue
        for target in tbox.objects(restriction, OWL.someValuesFrom):
            if isinstance(target, URIRef):
                direct[str(c)].add(str(target))
    if not direct:
        return []

    def supers(iri: str) -> set[str]:
        cls = world[iri]
        if cls is None:
            return {iri}
        found = {getattr(a, "iri", None) for a in cls.ancestors(include_self=True)}
        return {a for a in found if a and a != _OWL_THING}

    def subs(iri: str) -> set[str]:
        cls = world[iri]
        if cls is None:
            return {iri}
        found = {getattr(a, "iri", None) for a in cls.descendants(include_self=True)}
        return {a for a in found if a}

    # C part_of X, X is_a Y => C part_of Y ; C is_a D, D part_of X => C part_of X ; transitive.
    edges: dict[str, set[str]] = defaultdict(set)
    for c, targets in direct.items():
        ups = set().union(*(supers(t) for t in targets))
        for below in subs(c):
            edges[below] |= ups
    changed = True
    while changed:
        changed = False
        for c in list(edges):
            extra = set().union(*(edges.get(x, set()) for x in edges[c])) - edges[c]
            if extra:
                edges[c] |= extra
                changed = True
    stated = {(str(s), str(o)) for s, o in tbox.subject_objects(PART_OF)}
    out = [
        (URIRef(c), PART_OF, URIRef(x))
        for c in sorted(edges)
        for x in sorted(edges[c])
        if x != c and (c, x) not in stated
    ]
    report.relation_edges = len(out)
    return out
