"""``igkg query --format table``: fitted to the terminal's width, CURIEs and labels, 3 significant
digits; csv, tsv and json stay complete (every row, full IRIs, every digit)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[3]
FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
MARKER = "EGFR mutation status"


@pytest.fixture
def store(store_template, fresh_store, shared_data: Path) -> Path:
    def build(kg: KnowledgeGraph) -> None:
        from kg.analysis.associations import run_analysis, write_run

        kg.load(shared_data / FEATURES, kind="radiomics-csv", id_column="Case ID", cohort="NSCLC")
        write_run(kg, run_analysis(kg, markers=[MARKER], method="mannwhitney", q_max=1.0))

    return fresh_store(store_template("query-table-nsclc", build))


def igkg(store: Path, *args: str, columns: int = 120) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "kg.cli", "--store", str(store), "query", "--name", "features_for_gene",
         "--param", "gene=EGFR", *args],
        check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("columns", [120, 80])
def test_table_fits_the_width_with_curies_and_three_digits(store: Path, columns: int) -> None:
    complete = pd.read_csv(io.StringIO(igkg(store, "--format", "csv")))
    text = igkg(store, "--format", "table", columns=columns)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "http://" not in text and "https://" not in text  # IRIs as CURIEs or labels
    assert lines[-1] == f"{len(complete)} row(s)"
    best = complete.sort_values("p").iloc[0]
    if columns >= 120:
        assert best["feature_name"][:12] in text
    # the smallest p, to 3 significant digits, as the table writes p-values
    assert f"{best['p']:.2e}" in text or f"{best['p']:.3g}" in text


def test_csv_json_tsv_are_complete(store: Path, shared_data: Path) -> None:
    with (shared_data / FEATURES).open() as handle:
        features = [c for c in handle.readline().strip().split(",") if c.startswith("original_")]
    complete = pd.read_csv(io.StringIO(igkg(store, "--format", "csv")))
    assert set(complete["feature_name"]) == set(features)
    assert complete["method"].str.startswith("http://purl.obolibrary.org/obo/STATO_").all()
    records = json.loads(igkg(store, "--format", "json"))
    assert len(records) == len(complete)
    tsv = pd.read_csv(io.StringIO(igkg(store, "--format", "tsv")), sep="\t")
    assert tsv.shape == complete.shape
    # not a terminal: the default is csv, complete
    assert pd.read_csv(io.StringIO(igkg(store))).shape == complete.shape
