"""The W3C SPARQL 1.1 query-evaluation tests, run THROUGH the HTTP endpoint.

Every category in ``../shared/data/w3c-sparql11/`` is read from its ``manifest.ttl``
with rdflib. All data files are loaded once into one on-disk store, each into a named
graph named by the file's IRI in the W3C test space; each test then sends its query over
HTTP with the dataset given by the protocol (``default-graph-uri`` = its ``qt:data``,
``named-graph-uri`` = its ``qt:graphData``; an empty default graph when it has no data)
and compares the answer with the expected ``.srx``/``.srj``/``.ttl`` result as the suite
defines equality: solutions as multisets, blank nodes up to a bijection, order only as
far as ``ORDER BY`` fixes it; graphs by isomorphism. Negative syntax tests must get 400.

The pass rate per category is printed and every failure listed with its reason; the test
fails if a category drops under its floor or a test fails that is not listed, with its
reason, in ``tests/data/w3c-sparql11/known_failures.tsv``.

The second way is how clients really send queries: no dataset parameters at all. Each
test without named graphs or ``FROM`` runs on a server whose store holds exactly its
``qt:data`` files, loaded with ``KnowledgeGraph.load`` (``igkg load``; one server, the
data of one test after another loaded and dropped beside it, which the server must see
at once), and its answer must equal what Oxigraph itself answers with the same files in
a plain store's default graph: igkg's catalog and other graphs must change nothing.
The categories here are those in the shared folder (aggregates, bind, bindings, cast,
construct, functions, grouping, project-expression, subquery); property-path, negation
and exists are not among them.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from kg import KnowledgeGraph
from kg.endpoint import EndpointConfig, create_app
from live_server import running_server

pytestmark = pytest.mark.slow

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
TEST_BASE = "https://w3c.github.io/rdf-tests/sparql/sparql11/"
EMPTY_GRAPH = "urn:x-igkg-test:empty-default-graph"
KNOWN_FAILURES = Path(__file__).resolve().parents[2] / "data" / "w3c-sparql11" / "known_failures.tsv"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                             "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                             "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}

# Pass-rate floors per category, as measured with pyoxigraph 0.5.13 (the failures are the listed known ones).
FLOORS = {
    "aggregates": 44 / 47,
    "bind": 1.0,
    "bindings": 10 / 11,
    "cast": 1.0,
    "construct": 1.0,
    "functions": 74 / 75,
    "grouping": 1.0,
    "project-expression": 1.0,
    "subquery": 1.0,
}


@dataclass
class Case:
    """One manifest entry."""

    iri: str
    category: str
    kind: str
    name: str
    query: Path
    data: list[str] = field(default_factory=list)
    graph_data: list[str] = field(default_factory=list)
    result: Path | None = None


def _local(suite: Path, iri: str) -> Path:
    assert iri.startswith(TEST_BASE), iri
    return suite / iri[len(TEST_BASE):]


def read_manifests(suite: Path) -> list[Case]:
    cases = []
    for manifest in sorted(suite.glob("*/manifest.ttl")):
        category = manifest.parent.name
        base = f"{TEST_BASE}{category}/"
        graph = Graph().parse(manifest, format="turtle", publicID=base + "manifest.ttl")
        root = next(graph.subjects(RDF.type, MF.Manifest))
        for entry in Collection(graph, graph.value(root, MF.entries)):
            kind = str(graph.value(entry, RDF.type)).rsplit("#", 1)[-1]
            name = str(graph.value(entry, MF.name))
            action = graph.value(entry, MF.action)
            if kind == "QueryEvaluationTest":
                result = graph.value(entry, MF.result)
                cases.append(Case(
                    iri=str(entry), category=category, kind=kind, name=name,
                    query=_local(suite, str(graph.value(action, QT.query))),
                    data=sorted(str(d) for d in graph.objects(action, QT.data)),
                    graph_data=sorted(str(d) for d in graph.objects(action, QT.graphData)),
                    result=_local(suite, str(result)) if result is not None else None,
                ))
            elif kind in ("NegativeSyntaxTest11", "PositiveSyntaxTest11"):
                cases.append(Case(iri=str(entry), category=category, kind=kind, name=name, query=_local(suite, str(action))))
    return cases


def _known_failures() -> dict[str, str]:
    if not KNOWN_FAILURES.exists():
        return {}
    with open(KNOWN_FAILURES, encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["test"]: row["reason"] for row in rows}


@pytest.fixture(scope="module")
def suite(shared_data: Path) -> Path:
    return shared_data / "w3c-sparql11"


@pytest.fixture(scope="module")
def cases(suite: Path) -> list[Case]:
    return read_manifests(suite)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, cases: list[Case], suite: Path) -> Iterator[str]:
    """One store holding every data file as a named graph, served by the real endpoint."""
    folder = tmp_path_factory.mktemp("w3c") / "store"
    files = sorted({iri for case in cases for iri in case.data + case.graph_data})
    with KnowledgeGraph(folder) as kg:
        for iri in files:
            path = _local(suite, iri)
            fmt = ox.RdfFormat.RDF_XML if path.suffix == ".rdf" else ox.RdfFormat.TURTLE
            kg.store.load(path=str(path), format=fmt, base_iri=iri, to_graph=ox.NamedNode(iri))
        # Graphs named only in a query's FROM (e.g. constructwhere04) are loaded too.
        for case in cases:
            for name in re.findall(r"FROM\s+(?:NAMED\s+)?<([^>]+)>", case.query.read_text(encoding="utf-8")):
                iri = f"{TEST_BASE}{case.category}/{name}"
                if iri not in files and _local(suite, iri).exists():
                    kg.store.load(path=str(_local(suite, iri)), format=ox.RdfFormat.TURTLE, base_iri=iri, to_graph=ox.NamedNode(iri))
                    files.append(iri)
    with running_server(create_app(folder, EndpointConfig(timeout=30, max_rows=100_000))) as base:
        yield base


# ------------------------------------------------------------------ result sets
Row = dict[str, object]


def _term_key(term: object) -> tuple:
    if isinstance(term, ox.BlankNode):
        return ("b", term.value)
    if isinstance(term, ox.NamedNode):
        return ("u", term.value)
    if isinstance(term, ox.Literal):
        return ("l", term.value, term.datatype.value, term.language or "")
    if isinstance(term, ox.Triple):
        return ("t", _term_key(term.subject), _term_key(term.predicate), _term_key(term.object))
    raise TypeError(term)


def _terms_equal(expected: tuple, actual: tuple, mapping: dict[str, str]) -> bool:
    if expected[0] != actual[0]:
        return False
    if expected[0] == "b":
        return mapping.get(expected[1], actual[1]) == actual[1]
    if expected == actual:
        return True
    if expected[0] == "l" and expected[2] == actual[2] and expected[2] in NUMERIC:
        try:  # same datatype, same value: the suite accepts another lexical form of a number
            return Decimal(expected[1]) == Decimal(actual[1])
        except InvalidOperation:
            return expected[1].lower() in ("nan",) and actual[1].lower() == "nan"
    if expected[0] == "l" and expected[2] == actual[2] == XSD + "boolean":
        # Oxigraph stores xsd:boolean as a value, so "0" comes back as "false": same value.
        truth = {"true": True, "1": True, "false": False, "0": False}
        return truth.get(expected[1]) is not None and truth.get(expected[1]) == truth.get(actual[1])
    return False


def _row_keys(rows: list[dict]) -> list[dict[str, tuple]]:
    return [{k: _term_key(v) for k, v in row.items()} for row in rows]


def _match(expected: list[dict[str, tuple]], actual: list[dict[str, tuple]], ordered_by: list[str]) -> str | None:
    """``None`` if the solution sequences are equal as the suite defines it, else why not."""
    if len(expected) != len(actual):
        return f"{len(actual)} solutions, expected {len(expected)}"
    used = [False] * len(actual)

    def search(i: int, mapping: dict[str, str], reverse: dict[str, str]) -> bool:
        if i == len(expected):
            return True
        row = expected[i]
        for j in range(len(actual)):
            if used[j] or actual[j].keys() != row.keys():
                continue
            if not all(_terms_equal(row[k], actual[j][k], mapping) for k in row):
                continue
            new = dict(mapping)
            new_rev = dict(reverse)
            ok = True
            for k in row:
                if row[k][0] == "b":
                    e, a = row[k][1], actual[j][k][1]
                    if new.get(e, a) != a or new_rev.get(a, e) != e:
                        ok = False
                        break
                    new[e], new_rev[a] = a, e
            if not ok:
                continue
            used[j] = True
            if search(i + 1, new, new_rev):
                return True
            used[j] = False
        return False

    if not search(0, {}, {}):
        return "the solutions differ (as multisets, blank nodes up to a bijection)"
    if ordered_by:
        exp_keys = [tuple(r.get(v, ("unbound",)) for v in ordered_by) for r in expected]
        act_keys = [tuple(r.get(v, ("unbound",)) for v in ordered_by) for r in actual]
        if any(k[0] == "b" for keys in exp_keys for k in keys):
            return None
        for e, a in zip(exp_keys, act_keys):
            if not all(_terms_equal(x, y, {}) for x, y in zip(e, a)):
                return f"the ORDER BY ({', '.join(ordered_by)}) order differs"
    return None


def _order_variables(query: str) -> list[str]:
    """Variables of a top-level ORDER BY (simple keys: ?v, ASC(?v), DESC(?v))."""
    match = re.search(r"ORDER\s+BY\s+(.*?)(?:LIMIT|OFFSET|VALUES|$)", query, re.IGNORECASE | re.DOTALL)
    if not match or query.upper().count("ORDER BY") > 1:
        return []
    clause = match.group(1).strip()
    if not re.fullmatch(r"((ASC|DESC)?\s*\(?\s*\?\w+\s*\)?\s*)+", clause, re.IGNORECASE):
        return []
    return re.findall(r"\?(\w+)", clause)


def _expected_results(path: Path, category: str) -> tuple[str, object]:
    """('boolean', bool) | ('solutions', rows) | ('graph', Graph) from a result file."""
    base = f"{TEST_BASE}{category}/{path.name}"
    if path.suffix in (".srx", ".srj"):
        fmt = ox.QueryResultsFormat.XML if path.suffix == ".srx" else ox.QueryResultsFormat.JSON
        parsed = ox.parse_query_results(path=str(path), format=fmt)
        if isinstance(parsed, ox.QueryBoolean):
            return "boolean", bool(parsed)
        return "solutions", [{v.value: s[v] for v in parsed.variables if s[v] is not None} for s in parsed]
    graph = Graph().parse(path, format="turtle", publicID=base)
    result_set = next(graph.subjects(RDF.type, RS.ResultSet), None)
    if result_set is None:
        return "graph", graph
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return "boolean", bool(boolean.toPython())
    rows = []
    for solution in graph.objects(result_set, RS.solution):
        row = {}
        for binding in graph.objects(solution, RS.binding):
            row[str(graph.value(binding, RS.variable))] = _ox_term(graph.value(binding, RS.value))
        rows.append(row)
    return "solutions", rows


def _ox_term(term: object) -> object:
    from kg.core.terms import to_oxigraph

    return to_oxigraph(term)


# ------------------------------------------------------------------ running one case
def run_case(base: str, case: Case) -> str | None:
    """``None`` if the endpoint's answer equals the expected result, else the reason."""
    query = case.query.read_text(encoding="utf-8")
    text = f"BASE <{TEST_BASE}{case.category}/{case.query.name}>\n{query}"
    if case.kind == "NegativeSyntaxTest11":
        response = httpx.post(base + "/sparql", data={"query": text}, timeout=60)
        return None if response.status_code == 400 else f"status {response.status_code}, expected 400"
    params: dict[str, list[str]] = {}
    if not re.search(r"\bFROM\b", query, re.IGNORECASE):
        params = {"default-graph-uri": case.data or [EMPTY_GRAPH], "named-graph-uri": case.graph_data}
    assert case.result is not None
    kind, expected = _expected_results(case.result, case.category)
    accept = "application/n-triples" if kind == "graph" else "application/sparql-results+json"
    response = httpx.post(base + "/sparql", data={"query": text, **params}, headers={"Accept": accept}, timeout=60)
    if response.status_code != 200:
        return f"status {response.status_code}: {response.text.strip()[:200]}"
    if kind == "graph":
        actual = Graph().parse(data=response.text, format="nt")
        if isomorphic(actual, expected):  # type: ignore[arg-type]
            return None
        return f"graphs differ ({len(actual)} triples, expected {len(expected)})"  # type: ignore[arg-type]
    parsed = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    if kind == "boolean":
        if not isinstance(parsed, ox.QueryBoolean):
            return "expected a boolean"
        return None if bool(parsed) == expected else f"boolean {bool(parsed)}, expected {expected}"
    if isinstance(parsed, ox.QueryBoolean):
        return "expected solutions, got a boolean"
    rows = [{v.value: s[v] for v in parsed.variables if s[v] is not None} for s in parsed]
    return _match(_row_keys(expected), _row_keys(rows), _order_variables(query))  # type: ignore[arg-type]


def test_w3c_sparql11_query_evaluation_through_http(endpoint: str, cases: list[Case]) -> None:
    known = _known_failures()
    failures: dict[str, str] = {}
    per_category: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for case in cases:
        per_category[case.category] += 1
        try:
            reason = run_case(endpoint, case)
        except Exception as exc:  # report, do not stop the suite
            reason = f"{type(exc).__name__}: {exc}"
        if reason is None:
            passed[case.category] += 1
        else:
            failures[case.iri] = reason
    lines = ["", "W3C SPARQL 1.1 through the igkg endpoint:"]
    for category in sorted(per_category):
        rate = passed[category] / per_category[category]
        lines.append(f"  {category:20s} {passed[category]:3d}/{per_category[category]:3d}  {rate:6.1%}")
    total = sum(per_category.values())
    lines.append(f"  {'total':20s} {sum(passed.values()):3d}/{total:3d}  {sum(passed.values()) / total:6.1%}")
    for iri, reason in sorted(failures.items()):
        lines.append(f"  FAIL {iri}: {reason}" + (f"  [known: {known[iri]}]" if iri in known else ""))
    print("\n".join(lines))
    unexpected = {iri: reason for iri, reason in failures.items() if iri not in known}
    assert not unexpected, f"failures not in {KNOWN_FAILURES.name}: {unexpected}"
    assert set(FLOORS) == set(per_category), "a category appeared or vanished; update FLOORS"
    for category, floor in FLOORS.items():
        rate = passed[category] / per_category[category]
        assert rate >= floor - 1e-9, f"{category}: pass rate {rate:.1%} under its floor {floor:.1%}"
    fixed = [iri for iri in known if iri not in failures and any(f"/{c}/" in iri for c in per_category)]
    assert not fixed, f"known failures that now pass (remove them from {KNOWN_FAILURES.name}): {fixed}"


# ------------------------------------------------------------------ without dataset parameters
def _plain_cases(cases: list[Case]) -> dict[tuple[str, ...], list[Case]]:
    """Evaluation tests without named graphs or FROM, grouped by their data files."""
    groups: dict[tuple[str, ...], list[Case]] = {}
    for case in cases:
        if case.kind != "QueryEvaluationTest" or case.graph_data:
            continue
        if re.search(r"\bFROM\b", case.query.read_text(encoding="utf-8"), re.IGNORECASE):
            continue
        groups.setdefault(tuple(case.data), []).append(case)
    return groups


def _rdf_format(path: Path) -> ox.RdfFormat:
    return {".rdf": ox.RdfFormat.RDF_XML, ".nt": ox.RdfFormat.N_TRIPLES}.get(path.suffix, ox.RdfFormat.TURTLE)


def _oxigraph_answer(store: ox.Store, text: str) -> tuple[str, object]:
    """('boolean', bool) | ('solutions', rows) | ('graph', Graph) | ('error', message) of Oxigraph itself."""
    try:
        result = store.query(text)
    except (SyntaxError, OSError, ValueError) as exc:
        return "error", str(exc)
    if isinstance(result, ox.QueryBoolean):
        return "boolean", bool(result)
    if isinstance(result, ox.QuerySolutions):
        variables = result.variables
        return "solutions", [{v.value: s[v] for v in variables if s[v] is not None} for s in result]
    data = ox.serialize(list(result), format=ox.RdfFormat.N_TRIPLES) or b""
    return "graph", Graph().parse(data=data.decode("utf-8"), format="nt")


def run_plain_case(base: str, case: Case, reference: ox.Store) -> str | None:
    """``None`` if the endpoint, asked with no dataset parameters, answers as Oxigraph does."""
    query = case.query.read_text(encoding="utf-8")
    text = f"BASE <{TEST_BASE}{case.category}/{case.query.name}>\n{query}"
    kind, expected = _oxigraph_answer(reference, text)
    accept = "application/n-triples" if kind == "graph" else "application/sparql-results+json"
    response = httpx.post(base + "/sparql", data={"query": text}, headers={"Accept": accept}, timeout=60)
    if kind == "error":
        return None if response.status_code >= 400 else f"Oxigraph fails ({expected}), the endpoint answers {response.status_code}"
    if response.status_code != 200:
        return f"status {response.status_code}: {response.text.strip()[:200]}"
    if kind == "graph":
        actual = Graph().parse(data=response.text, format="nt")
        return None if isomorphic(actual, expected) else f"graphs differ ({len(actual)} triples, Oxigraph {len(expected)})"  # type: ignore[arg-type]
    parsed = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    if kind == "boolean":
        return None if isinstance(parsed, ox.QueryBoolean) and bool(parsed) == expected else f"boolean differs from Oxigraph's {expected}"
    if isinstance(parsed, ox.QueryBoolean):
        return "expected solutions, got a boolean"
    rows = [{v.value: s[v] for v in parsed.variables if s[v] is not None} for s in parsed]
    return _match(_row_keys(expected), _row_keys(rows), _order_variables(query))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def plain_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A served store, empty at first: each test's data is loaded into it with ``KnowledgeGraph.load``."""
    folder = tmp_path_factory.mktemp("w3c-plain") / "store"
    KnowledgeGraph(folder).close()
    with running_server(create_app(folder, EndpointConfig(timeout=30, max_rows=100_000, workers=1, page_workers=0))) as base:
        yield base, folder


def test_w3c_sparql11_without_dataset_parameters_answers_as_oxigraph(
    plain_endpoint: tuple[str, Path], cases: list[Case], suite: Path
) -> None:
    base, folder = plain_endpoint
    groups = _plain_cases(cases)
    failures: dict[str, str] = {}
    unloadable: dict[str, str] = {}
    ran: Counter[str] = Counter()
    for files, group in groups.items():
        reference = ox.Store()
        paths = [_local(suite, iri) for iri in files]
        try:
            for path in paths:
                reference.load(path=str(path), format=_rdf_format(path))
        except SyntaxError as exc:  # relative IRIs: igkg load gives a file no base IRI either
            for case in group:
                unloadable[case.iri] = str(exc)
            continue
        with KnowledgeGraph(folder) as kg:
            for path in paths:
                if _triples(path) > 0:  # an empty file is refused as a source; its graph is empty anyway
                    kg.load(path, kind="rdf")
        try:
            for case in group:
                ran[case.category] += 1
                try:
                    reason = run_plain_case(base, case, reference)
                except Exception as exc:  # report, do not stop the suite
                    reason = f"{type(exc).__name__}: {exc}"
                if reason is not None:
                    failures[case.iri] = reason
        finally:
            with KnowledgeGraph(folder) as kg:
                for graph in kg.graphs()["graph"]:
                    kg.drop(graph)
    lines = ["", "W3C SPARQL 1.1 through the igkg endpoint, no dataset parameters, against Oxigraph's own answers:"]
    for category in sorted(ran):
        lines.append(f"  {category:20s} {ran[category]:3d} run")
    lines.append(f"  {len(unloadable)} not loadable without a base IRI; {len(failures)} differ")
    for iri, reason in sorted(failures.items()):
        lines.append(f"  DIFF {iri}: {reason}")
    print("\n".join(lines))
    assert sum(ran.values()) >= 150, ran
    assert len(unloadable) <= 10, unloadable
    assert not failures, failures


def _triples(path: Path) -> int:
    store = ox.Store()
    store.load(path=str(path), format=_rdf_format(path))
    return len(store)
