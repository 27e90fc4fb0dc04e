"""GWAS-SSF: the hits go to the graph, and every row of the file (hit or not) to the data plane as the source's
``gwas`` matrix ``summary_statistics``: as many rows as the file has data rows, every column, the same numbers."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from kg import KnowledgeGraph

DATA = Path(__file__).resolve().parents[1] / "data"
SSF = DATA / "gwas_ssf" / "good" / "GCST90002426.tsv"


def _rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _summary_statistics(kg: KnowledgeGraph) -> pd.DataFrame:
    files = [f for f in kg.matrix_files(kind="gwas") if f.source_key.startswith("gwas-ssf/")]
    assert len(files) == 1 and files[0].layout == "wide"
    return kg.data_plane.matrix(files)


def test_every_row_in_the_data_plane_and_the_hits_in_the_graph(kg: KnowledgeGraph) -> None:
    rows = _rows(SSF)
    report = kg.load(SSF)
    table = _summary_statistics(kg)
    assert len(table) == len(rows) == report.records_read
    assert list(table.columns) == list(rows[0])  # every column of the file
    assert set(table.index) == {r["variant_id"] for r in rows}
    by_id = {r["variant_id"]: r for r in rows}
    for column in ("p_value", "beta", "standard_error", "effect_allele_frequency", "base_pair_location", "n"):
        np.testing.assert_array_equal(table[column].to_numpy(), [float(by_id[v][column]) for v in table.index])
    for column in ("chromosome", "effect_allele", "other_allele"):
        assert table[column].astype(str).tolist() == [by_id[v][column] for v in table.index]
    missing = [v for v in table.index if by_id[v]["rsid"] in ("#NA", "NA")]
    assert missing and table.loc[missing, "rsid"].isna().all()  # GWAS-SSF's #NA is missing
    hits = [r for r in rows if float(r["p_value"]) <= 5e-8]
    n = kg.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a igkg:VariantTraitAssociation }")
    assert 0 < int(n["n"].iloc[0]) == len(hits) < len(table)  # below the threshold only in the data plane
    assert any(f"all {len(rows)} rows in the data plane" in note for note in report.notes)


def test_a_large_gzipped_file_keeps_every_row(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """The real rows repeated at shifted positions (distinct variant ids), 60,000 of them, in batches."""
    rows = _rows(SSF)
    target = tmp_path / "GCST90002426.tsv.gz"
    shutil.copyfile(SSF.with_name(SSF.name + "-meta.yaml"), tmp_path / "GCST90002426.tsv-meta.yaml")
    with gzip.open(target, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for i in range(10_000):
            for row in rows:
                pos = int(row["base_pair_location"]) + i
                writer.writerow({**row, "base_pair_location": pos,
                                 "variant_id": f"{row['chromosome']}_{pos}_{row['other_allele']}_{row['effect_allele']}"})
    report = kg.load(target, kind="gwas-ssf")
    table = _summary_statistics(kg)
    assert len(table) == len(_rows(target)) == report.records_read == 60_000
    assert table["p_value"].notna().all() and table.index.is_unique


def test_values_rdf_keeps_the_hits_only(kg: KnowledgeGraph) -> None:
    report = kg.load(SSF, values="rdf")
    assert not kg.matrix_files(kind="gwas")
    assert any("not kept (values=rdf)" in note for note in report.notes)
