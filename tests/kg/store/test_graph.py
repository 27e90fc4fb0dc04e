"""The store: named graphs with provenance, atomic and idempotent loads, export, drop."""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal

from kg import KnowledgeGraph
from kg.core.errors import LoadError, StoreError
from kg.core.namespaces import CATALOG_GRAPH
from kg.store.catalog import mark_pending

GOOD = Path(__file__).resolve().parents[2] / "data" / "rdf" / "good" / "nlm_samples_head.nt"
def _labels_from_file(path: Path) -> dict[str, str]:
    """rdfs:label of each subject, read off the N-Triples text with a regex."""
    pattern = re.compile(r'^<([^>]+)> <http://www.w3.org/2000/01/rdf-schema#label> "((?:[^"\\]|\\.)*)"(?:@[a-z]+)? \.$')
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if match:
            found[match[1]] = match[2]
    return found


def _by_value(graph: Graph) -> set[tuple[object, object, object]]:
    def norm(term: object) -> object:
        if isinstance(term, Literal) and term.datatype and isinstance(term.toPython(), (int, float, Decimal)):
            return ("number", float(term.toPython()))
        return term

    return {(s, p, norm(o)) for s, p, o in graph}


def _stats_snapshot(kg: KnowledgeGraph) -> list[tuple[str, int]]:
    frame = kg.stats().graphs
    return sorted(zip(frame["graph"], frame["triples"], strict=True))


def test_load_puts_source_in_its_own_graph_with_provenance(kg: KnowledgeGraph) -> None:
    report = kg.load(GOOD)
    lines = [line for line in GOOD.read_text().splitlines() if line.strip()]
    assert report.triples == len(set(lines))
    catalog = kg.graphs()
    assert list(catalog["source"]) == ["rdf/nlm_samples_head.nt"]
    row = catalog.iloc[0]
    assert row["graph"] == report.graph
    assert row["sha256"] == hashlib.sha256(GOOD.read_bytes()).hexdigest()
    assert row["triples"] == report.triples
    assert row["file"] == GOOD.name  # the name and checksum are published, never the server's path
    dumped = kg.query(f"SELECT ?o WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?s ?p ?o }} }}")
    assert not any(str(o).startswith("file:") or str(GOOD.parent) in str(o) for o in dumped["o"])
    inside = kg.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{report.graph}> {{ ?s ?p ?o }} }}")
    assert int(inside["n"][0]) == report.triples


def test_loaded_facts_answer_sparql(kg: KnowledgeGraph) -> None:
    report = kg.load(GOOD)
    expected = _labels_from_file(GOOD)
    assert expected, "the sample must hold labels"
    frame = kg.query(f"SELECT ?s ?label WHERE {{ GRAPH <{report.graph}> {{ ?s rdfs:label ?label }} }}")
    assert dict(zip(frame["s"], frame["label"], strict=True)) == expected


def test_reloading_an_unchanged_source_is_a_no_op(kg: KnowledgeGraph) -> None:
    first = kg.load(GOOD)
    before = _stats_snapshot(kg)
    loaded_at = kg.graphs()["loaded"].tolist()
    second = kg.load(GOOD)
    assert second.skipped and second.graph == first.graph
    assert _stats_snapshot(kg) == before
    assert kg.graphs()["loaded"].tolist() == loaded_at


def test_a_changed_source_replaces_its_graph(kg: KnowledgeGraph, tmp_path: Path) -> None:
    copy = tmp_path / GOOD.name
    shutil.copy(GOOD, copy)
    first = kg.load(copy)
    lines = copy.read_text().splitlines()
    copy.write_text("\n".join(lines[:300]) + "\n")  # a shrink to less than half would need replace=True
    second = kg.load(copy)
    assert second.graph != first.graph
    catalog = kg.graphs()
    assert list(catalog["graph"]) == [second.graph]
    graphs = {g.value for g in kg.store.named_graphs()}
    assert first.graph not in graphs and second.graph in graphs
    assert second.triples == len(set(lines[:300]))
    assert any("replaces rdf/nlm_samples_head.nt" in note for note in second.notes)


def test_unknown_kind_and_missing_file(kg: KnowledgeGraph, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="file not found"):
        kg.load(tmp_path / "nope.nt")
    odd = tmp_path / "data.xyz"
    odd.write_text("x")
    with pytest.raises(LoadError, match="cannot tell the kind"):
        kg.load(odd)
    with pytest.raises(LoadError, match="unknown kind"):
        kg.load(GOOD, kind="no-such-kind")


def test_export_round_trips(kg: KnowledgeGraph, tmp_path: Path) -> None:
    report = kg.load(GOOD)
    nquads = tmp_path / "all.nq.gz"
    kg.export(nquads, format="nquads")
    fresh = ox.Store()
    with gzip.open(nquads, "rb") as handle:
        fresh.load(handle, ox.RdfFormat.N_QUADS)
    assert set(fresh) == set(kg.store)
    turtle = tmp_path / "one.ttl"
    kg.export(turtle, format="turtle", graph=report.graph)
    # Oxigraph stores numbers by value (xsd:int 2 comes back as xsd:integer 2): compare values.
    assert _by_value(Graph().parse(turtle)) == _by_value(Graph().parse(GOOD, format="nt"))
    trig = tmp_path / "all.trig"
    kg.export(trig, format="trig")
    again = ox.Store()
    again.load(path=str(trig), format=ox.RdfFormat.TRIG)
    assert set(again) == set(kg.store)


def test_drop_removes_graph_and_catalog_record(kg: KnowledgeGraph) -> None:
    report = kg.load(GOOD)
    removed = kg.drop(GOOD.name)
    assert removed == report.triples
    assert kg.graphs().empty
    left = kg.query(f"ASK {{ GRAPH <{CATALOG_GRAPH}> {{ ?s ?p ?o }} }}")
    assert left is False
    with pytest.raises(StoreError, match="no graph or source"):
        kg.drop(GOOD.name)


def test_disk_store_persists_and_reopens_read_only(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with KnowledgeGraph(location) as kg:
        report = kg.load(GOOD)
    with KnowledgeGraph(location, read_only=True) as kg:
        assert list(kg.graphs()["graph"]) == [report.graph]
        with pytest.raises(StoreError, match="read-only"):
            kg.load(GOOD)


def test_second_writer_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with KnowledgeGraph(location):
        with pytest.raises(StoreError, match="in use by another"):
            KnowledgeGraph(location)


def test_interrupted_load_leftovers_are_removed_on_open(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with KnowledgeGraph(location) as kg:
        kg.load(GOOD)
        before = _stats_snapshot(kg)
        # What a SIGKILL in the middle of a bulk load leaves: a graph marked pending, with no catalog record.
        kg.store.update(mark_pending("https://w3id.org/igkg/graph/rdf/x.nt/0123456789abcdef", "2026-01-01T00:00:00Z"))
        kg.store.bulk_load(GOOD.read_bytes(), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("https://w3id.org/igkg/graph/rdf/x.nt/0123456789abcdef"))
    with KnowledgeGraph(location) as kg:
        assert _stats_snapshot(kg) == before


def test_bindings_are_terms_not_query_text(kg: KnowledgeGraph) -> None:
    kg.load(GOOD)
    label = next(iter(_labels_from_file(GOOD).values()))
    hit = kg.query("SELECT ?s WHERE { ?s rdfs:label ?l }", {"l": Literal(label, lang="en")})
    assert len(hit) == 1
    for attack in ['x" } UNION { ?s ?p ?o', "x'} ; DROP ALL", "<http://a b>", "} UNION {"]:
        frame = kg.query("SELECT ?s WHERE { ?s rdfs:label ?l }", {"l": attack})
        assert frame.empty


def test_unknown_option_is_refused_with_the_known_ones(kg: KnowledgeGraph) -> None:
    """A loader option the loader does not declare is an error naming the declared ones; nothing is written."""
    from kg.core.errors import ConfigError
    from loaders import LOADERS

    with pytest.raises(ConfigError) as caught:
        kg.load(GOOD, kind="rdf", id_column="Case ID")
    assert "'id_column'" in str(caught.value) and "none" in str(caught.value)
    gmt = Path(__file__).resolve().parents[2] / "data" / "gmt" / "bad" / next(p.name for p in (Path(__file__).resolve().parents[2] / "data" / "gmt" / "bad").iterdir())
    with pytest.raises(ConfigError) as caught:
        kg.load(gmt, kind="gmt", collections="typo")
    assert all(option in str(caught.value) for option in LOADERS["gmt"].options)
    assert len(kg.graphs()) == 0


def test_kind_aliases_reach_the_same_loader(kg: KnowledgeGraph) -> None:
    """A kind may also be named by its module name; the catalog records the kind itself."""
    report = kg.load(GOOD, kind="rdf")
    assert report.kind == "rdf"
    from loaders import ALIASES, get_loader

    assert get_loader("gene_info") is get_loader("gene-info")
    assert all(get_loader(alias).kind == kind for alias, kind in ALIASES.items())


@pytest.mark.parametrize("name", ["subquery/sq11.ttl", "functions/data-builtin-3.ttl", "aggregates/agg-numeric.ttl"])
def test_n_triples_load_in_blocks_equals_the_file(name: str, shared_data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """N-Triples are bulk-loaded a block of lines at a time; blank nodes (renamed per block by
    Oxigraph) send the file through the by-triples path. Tiny blocks: the graph is rdflib's."""
    import kg.store.graph as graph_module
    from rdflib.compare import isomorphic

    reference = Graph().parse(shared_data / "w3c-sparql11" / name, format="turtle")
    source = tmp_path / (Path(name).stem + ".nt")
    source.write_text(reference.serialize(format="nt"), encoding="utf-8")
    monkeypatch.setattr(graph_module, "_LOAD_BLOCK_BYTES", 97)  # lines cut across many blocks
    with KnowledgeGraph(None) as kg:
        report = kg.load(source, kind="rdf")
        assert report.triples == len(reference)
        loaded = kg.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{report.graph}> {{ ?s ?p ?o }} }}")
    def by_value(graph: Graph) -> Graph:  # Oxigraph stores numbers by value ("01" -> "1"), xsd:string as plain (RDF 1.1)
        normal = Graph()
        for s, p, o in graph:
            if isinstance(o, Literal) and o.datatype and isinstance(o.toPython(), (int, float, Decimal)):
                o = Literal(repr(float(o.toPython())))
            elif isinstance(o, Literal) and str(o.datatype) == "http://www.w3.org/2001/XMLSchema#string":
                o = Literal(str(o))
            normal.add((s, p, o))
        return normal

    assert isomorphic(by_value(loaded), by_value(reference))
