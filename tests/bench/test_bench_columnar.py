"""Smoke test of the columnar bench step: its table has the promised shape and its children run.

No timing is asserted: the children report their numbers and the test checks what they did.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.bench_columnar import MARKER, _step, write_table
from kg import KnowledgeGraph


def test_table_and_children(tmp_path: Path) -> None:
    table = write_table(tmp_path / "radiomic_features_60x50.csv", 60, 50)
    frame = pd.read_csv(table)
    assert frame.shape == (60, 52) and frame.columns[0] == "Case ID" and frame.columns[-1] == MARKER
    assert all(c.count("_") >= 2 for c in frame.columns[1:-1])  # pyradiomics names
    pandas = _step("read_csv", table, tmp_path / "none", 300)
    assert pandas["shape"] == [60, 52]
    loaded = _step("load_columnar_associate", table, tmp_path / "store", 600)
    assert loaded["tests"] == 50 and loaded["peak_rss"] > 0
    again = _step("associate", table, tmp_path / "store", 600)
    assert again["tests"] == 50
    with KnowledgeGraph(tmp_path / "store", read_only=True) as kg:
        assert kg.matrix().shape == (60, 50)
        measurements = kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?m a igkg:FeatureMeasurement }")
        assert int(measurements["n"].iloc[0]) == 0
