"""Recovery removes only what igkg's own interrupted loads left (issue 12 items 5, 6 and 20).

Real on-disk stores, real files; a killed load is a real subprocess killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import KnowledgeGraph
from kg.core.errors import StoreError
from kg.core.namespaces import GRAPH_BASE
from kg.store.catalog import PENDING_GRAPH

GOOD = Path(__file__).resolve().parents[2] / "data" / "rdf" / "good" / "nlm_samples_head.nt"
CURATED = GRAPH_BASE + "curated/notes"


def _write_nt(path: Path, triples: int) -> None:
    with path.open("w") as out:
        for i in range(triples):
            out.write(f'<http://example.org/s{i // 10}> <http://example.org/p{i % 10}> "value {i}" .\n')


def test_a_graph_written_by_update_under_the_igkg_namespace_survives(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with KnowledgeGraph(location) as kg:
        kg.load(GOOD)
        kg.update(f'INSERT DATA {{ GRAPH <{CURATED}> {{ <urn:igkg:a> <urn:igkg:says> "kept" }} }}')
    for _ in range(2):  # every writable open runs recovery
        with KnowledgeGraph(location) as kg:
            assert kg.recover() == []
            assert kg.store.contains_named_graph(ox.NamedNode(CURATED))
            assert kg.query('ASK { <urn:igkg:a> <urn:igkg:says> "kept" }') is True
            assert len(kg.graphs()) == 1


def test_a_pending_graph_is_hidden_and_removed_but_nothing_else(tmp_path: Path) -> None:
    from kg.store.catalog import mark_pending

    location = tmp_path / "store"
    orphan = GRAPH_BASE + "rdf/x.nt/0123456789abcdef"
    with KnowledgeGraph(location) as kg:
        kg.load(GOOD)
        kg.update(f'INSERT DATA {{ GRAPH <{CURATED}> {{ <urn:igkg:a> <urn:igkg:says> "kept" }} }}')
        # What a load killed mid-way leaves: its pending mark, and part of its graph.
        kg.store.update(mark_pending(orphan, "2026-01-01T00:00:00Z"))
        kg.store.bulk_load(path=str(GOOD), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(orphan))
        assert orphan not in kg.data_graphs()  # hidden from every query at once
        total = kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert int(total["n"].iloc[0]) == 400 + 1
    with KnowledgeGraph(location) as kg:
        assert not kg.store.contains_named_graph(ox.NamedNode(orphan))
        assert kg.store.contains_named_graph(ox.NamedNode(CURATED))
        assert not list(kg.store.quads_for_pattern(None, None, None, ox.NamedNode(PENDING_GRAPH)))


def _spool_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("igkg-*")) if folder.is_dir() else []


@pytest.mark.slow
def test_a_killed_load_spools_inside_the_store_and_recovery_clears_it(tmp_path: Path, shared_data: Path) -> None:
    store = tmp_path / "store"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "IGKG_STORE": str(store), "TMPDIR": str(temp), "TMP": str(temp), "TEMP": str(temp)}
    genes = shared_data / "genes" / "Homo_sapiens.gene_info.gz"
    process = subprocess.Popen([sys.executable, "-m", "kg.cli", "load", str(genes)], env=env)
    spool = store / "spool"
    deadline = time.monotonic() + 120
    while not _spool_files(spool) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let it write some
    assert process.poll() is None, "the load finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    left = _spool_files(spool)
    assert left and left[0].stat().st_size > 0  # what the kill left is in the store folder ...
    assert not list(temp.iterdir())  # ... and nothing in the temporary folder
    with KnowledgeGraph(store) as kg:
        assert _spool_files(spool) == []
        assert kg.graphs().empty


def test_drop_hides_a_source_at_once_and_recovery_finishes_the_deletion(tmp_path: Path) -> None:
    big = tmp_path / "big.nt"
    _write_nt(big, 100_000)
    location = tmp_path / "store"
    with KnowledgeGraph(location) as kg:
        report = kg.load(big)
        assert report.triples == 100_000
        started = time.monotonic()
        assert kg.drop("big.nt") == 100_000
        assert time.monotonic() - started < 15  # a 2 s deletion budget, plus the catalog work
        assert kg.graphs().empty
        assert kg.query("ASK { ?s ?p ?o }") is False
        kg.recover()  # no budget: deletes the rest
        assert not kg.store.contains_named_graph(ox.NamedNode(report.graph))
        assert sum(1 for _ in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(report.graph))) == 0


def test_store_errors_name_the_path_they_concern(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file-not-store"
    not_a_folder.write_text("x")
    with pytest.raises(StoreError) as caught:
        KnowledgeGraph(not_a_folder)
    assert str(not_a_folder) in str(caught.value)
    missing = tmp_path / "missing-store"
    with pytest.raises(StoreError) as caught:
        KnowledgeGraph(missing, read_only=True)
    assert str(missing) in str(caught.value)
    location = tmp_path / "store"
    with KnowledgeGraph(location) as kg:
        (location / "spool").write_text("in the way")  # the spool folder cannot be made
        with pytest.raises(OSError) as caught:
            kg.load(GOOD.parent.parent.parent / "hgnc" / "good" / "scout_hgnc_reduced_set.txt")
        assert str(location / "spool") in str(caught.value)
        assert kg.graphs().empty
        vanished = tmp_path / "vanished.nt"  # e.g. a spool file removed by a /tmp cleaner
        with pytest.raises(OSError) as caught:
            kg._bulk_load(vanished, GRAPH_BASE + "rdf/vanished.nt/0123456789abcdef")
        assert str(vanished) in str(caught.value)
        assert kg.data_graphs() == [] and kg.recover() == []
