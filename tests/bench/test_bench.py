"""Smoke test of the benchmark: the generated graph has the promised shape, and a step runs.

Counts are asked of the loaded graph by SPARQL and compared with what the generator says
it wrote and with the pyradiomics feature catalogue (14 image types, 93 non-shape
features per image type plus 14 shape features). No timing is asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import run_child
from bench.bench_results import bench_dataframe
from bench.generate import FEATURES, IMAGE_TYPES, SHAPE, generate, parse_size
from kg import KnowledgeGraph


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("bench") / "tiny.nt"
    return path, generate(path, 30_000, seed=7)


def _count(kg: KnowledgeGraph, sparql: str) -> int:
    frame = kg.query(sparql)
    return int(frame.iloc[0, 0])


def test_generated_graph_has_the_promised_shape(tiny: tuple[Path, object]) -> None:
    path, shape = tiny
    kg = KnowledgeGraph(None)
    report = kg.load(path)
    with open(path, encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    assert report.triples == shape.triples == lines
    features = len(IMAGE_TYPES) * sum(len(v) for v in FEATURES.values()) + len(SHAPE)
    assert features == shape.features_per_roi == 1316
    assert _count(kg, "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?f igkg:imageType ?t }") == 14
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?f a/rdfs:subClassOf* ?c ; igkg:pyradiomicsName ?name }") >= features
    assert _count(kg, "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f igkg:pyradiomicsName ?name }") == features
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?s a igkg:Subject }") == shape.subjects
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?r a igkg:Segmentation }") == shape.rois
    per_roi = kg.query(
        "SELECT ?roi (COUNT(DISTINCT ?f) AS ?n) WHERE { ?m igkg:roi ?roi ; igkg:feature ?f ; igkg:value ?v } GROUP BY ?roi"
    )
    assert len(per_roi) == shape.rois and set(per_roi["n"]) == {features}
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?g a igkg:Gene }") == shape.genes
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?p a igkg:Pathway }") == shape.pathways
    assert _count(kg, "SELECT (COUNT(*) AS ?n) WHERE { ?d meshv:broaderDescriptor* mesh:D009369 ; a meshv:TopicalDescriptor }") == shape.descriptors
    assert _count(
        kg,
        "SELECT (COUNT(*) AS ?n) WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:feature ?f ; igkg:target ?g ; "
        "igkg:statistic ?s ; igkg:pValue ?p ; igkg:qValue ?q ; igkg:sampleSize ?n0 . ?g a igkg:Gene . ?f igkg:pyradiomicsName ?x }",
    ) == shape.associations
    kg.close()


def test_generation_is_deterministic(tiny: tuple[Path, object], tmp_path: Path) -> None:
    path, _ = tiny
    again = tmp_path / "again.nt"
    generate(again, 30_000, seed=7)
    assert again.read_bytes() == path.read_bytes()
    generate(tmp_path / "other.nt", 30_000, seed=8)
    assert (tmp_path / "other.nt").read_bytes() != path.read_bytes()


def test_a_bench_step_runs(tiny: tuple[Path, object], tmp_path: Path) -> None:
    path, shape = tiny
    kg = KnowledgeGraph(None)
    kg.load(path)
    rows = bench_dataframe(kg, "tiny", None, runs=1)
    assert rows[0].metric.startswith(f"SELECT -> DataFrame ({shape.measurements:,} rows)")
    assert rows[0].igkg and rows[0].igkg > 0
    child = run_child(["bench.bench_store", "child", "pyoxigraph", str(path), str(tmp_path / "ox")], timeout=300)
    assert child.returncode == 0, child.stderr
    assert child.data["triples"] == shape.triples
    assert child.peak_rss > 0
    kg.close()


def test_sizes() -> None:
    assert parse_size("100k") == 100_000 and parse_size("1M") == 1_000_000 and parse_size("10M") == 10_000_000
