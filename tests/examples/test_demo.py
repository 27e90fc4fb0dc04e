"""The README's main command: the demo builds the graph from the bundled data and answers."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from examples.demo import DATA, SOURCES
from kg import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[2]


def test_every_bundled_file_has_its_source_and_licence_beside_it() -> None:
    for source in SOURCES:
        path = DATA / source.path
        assert path.exists(), path
        folder = path if path.is_dir() else path.parent
        assert (folder / "SOURCE.md").is_file(), f"{folder} has no SOURCE.md"
        if path.is_file():
            assert path.name in (folder / "SOURCE.md").read_text(), f"{path.name} is not described in SOURCE.md"


@pytest.mark.slow
def test_demo_builds_and_answers(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--store", str(store), "--no-serve"],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "== features_for_gene(gene=ERBB1)" in result.stdout
    with KnowledgeGraph(store, read_only=True) as kg:
        sources = set(kg.graphs()["source"])
        assert len([s for s in sources if not s.startswith(("associations/", "inferences/"))]) == len(SOURCES)
        # Every NSCLC subject of the features table is a Subject with its 107 features.
        with (DATA / "nsclc" / "nsclc_radiogenomics_original_features.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        features = [c for c in rows[0] if c.startswith("original_")]
        counts = kg.query(
            "SELECT ?id (COUNT(DISTINCT ?f) AS ?n) WHERE { ?m a igkg:FeatureMeasurement ; igkg:subject ?s ; "
            "igkg:feature ?f . ?f igkg:pyradiomicsName ?name . FILTER(STRSTARTS(?name, 'original_')) "
            "?s igkg:identifier ?id } GROUP BY ?id"
        )
        by_subject = dict(zip(counts["id"], counts["n"], strict=True))
        for row in rows:
            assert by_subject[row["Case ID"]] == len(features)
        # EGFR named by alias, HGNC, Entrez or Ensembl id (as the bundled gene_info record
        # gives them) reaches the same associations: one per feature of the EGFR analysis.
        record = (DATA / "genes" / "nsclc_markers.gene_info").read_text().splitlines()[1].split("\t")
        assert record[2] == "EGFR"
        xrefs = dict(x.split(":", 1) for x in record[5].split("|"))
        for name in (record[4].split("|")[0], xrefs["HGNC"], record[1], xrefs["Ensembl"], "egfr"):
            answer = kg.ask("features_for_gene", gene=name)
            assert set(answer["feature_name"]) == set(features), name
