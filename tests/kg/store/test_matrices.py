"""Matrices beside the graph: written at load time, committed with the source's graph, read back exactly.

Real data: the NSCLC Radiogenomics feature table (117 subjects x 107 pyradiomics features,
an EGFR column, sex and smoking columns) and the TCIA NSCLC clinical table.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kg.core.errors import LoadError, StoreError
from kg.core.namespaces import CATALOG_GRAPH
from kg.dataplane import MatrixIntegrityError
from kg.store import KnowledgeGraph
from loaders import LoadContext, LoadReport
from loaders.radiomics_csv import parse as parse_radiomics_csv

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def nsclc(shared_data: Path) -> Path:
    return shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv"


def _raw_features(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    raw.index = "https://w3id.org/igkg/id/subject/" + raw.pop("Case ID")
    return raw[[c for c in raw.columns if c.startswith("original_")]]


def _parquet(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")) if folder.exists() else []


@pytest.mark.parametrize("values", ["both", "columnar"])
def test_loaded_values_come_back_exactly(tmp_path: Path, nsclc: Path, values: str) -> None:
    with KnowledgeGraph(tmp_path / "store") as kg:
        report = kg.load(nsclc, kind="radiomics-csv", values=values, cohort="NSCLC")
        matrix = kg.matrix(kind="radiomics")
        raw = _raw_features(nsclc)
        assert matrix.index.name == "subject" and list(matrix.columns) == list(raw.columns)
        np.testing.assert_array_equal(matrix.loc[raw.index].to_numpy(), raw.to_numpy())
        glcm = kg.matrix(kind="radiomics", cohort="NSCLC", features="original_glcm_*")
        assert list(glcm.columns) == [c for c in raw.columns if c.startswith("original_glcm_")]
        some = kg.matrix(features=["original_firstorder_Mean"], subjects=list(raw.index[:5]))
        assert list(some.index) == list(raw.index[:5])
        markers = kg.matrix(kind="markers")["EGFR mutation status"]
        assert markers.loc[raw.index].tolist() == pd.read_csv(nsclc)["EGFR mutation status"].astype(float).tolist()
        clinical = kg.matrix(kind="clinical")
        assert isinstance(clinical["Gender"].dtype, pd.CategoricalDtype)
        measurements = int(kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?m a igkg:FeatureMeasurement }")["n"].iloc[0])
        assert measurements == (int(raw.notna().sum().sum()) if values == "both" else 0)
        # the entity layer is there in both modes: subjects, features with their IBSI identity, the marker
        assert int(kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s a igkg:Subject }")["n"].iloc[0]) == len(raw)
        assert int(kg.query("SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f igkg:pyradiomicsName ?name }")["n"].iloc[0]) == raw.shape[1]
        assert report.graph is not None


def test_the_catalog_lists_each_file_as_a_dcat_distribution(tmp_path: Path, nsclc: Path) -> None:
    with KnowledgeGraph(tmp_path / "store") as kg:
        kg.load(nsclc, kind="radiomics-csv", values="columnar")
        files = {f.kind: f for f in kg.matrix_files()}
        assert set(files) == {"radiomics", "markers", "clinical"}
        features = files["radiomics"]
        path = tmp_path / "store" / "columnar" / features.path
        assert features.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (features.rows, features.columns, features.byte_size) == (117, 107, path.stat().st_size)
        rows = kg.query(
            f"SELECT ?d ?type ?size ?sum ?path WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?g dcat:distribution ?d . ?d dcat:mediaType ?type ; "
            "dcat:byteSize ?size ; igkg:columnarPath ?path ; <http://spdx.org/rdf/terms#checksum> ?k . "
            "?k <http://spdx.org/rdf/terms#checksumValue> ?sum } }"
        )
        rows = rows[rows["path"] == features.path]
        assert len(rows) == 1
        assert rows["type"].iloc[0] == "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
        assert int(rows["size"].iloc[0]) == features.byte_size and rows["sum"].iloc[0] == features.checksum
        assert [f.kind for f in kg.matrix_files(kind="markers")] == ["markers"]


def test_reload_replaces_the_files_and_drop_removes_them(tmp_path: Path, nsclc: Path) -> None:
    table = tmp_path / "features.csv"
    raw = pd.read_csv(nsclc)
    raw.to_csv(table, index=False)
    plane = tmp_path / "store" / "columnar"
    with KnowledgeGraph(tmp_path / "store") as kg:
        kg.load(table, kind="radiomics-csv")
        first = _parquet(plane)
        assert len(first) == 3
        raw.loc[0, "original_firstorder_Mean"] = 12345.5
        raw.to_csv(table, index=False)
        kg.load(table, kind="radiomics-csv")
        second = _parquet(plane)
        assert len(second) == 3 and not set(first) & set(second)
        assert kg.matrix(features=["original_firstorder_Mean"]).iloc[0, 0] == 12345.5
        kg.drop("radiomics-csv/features.csv")
        assert _parquet(plane) == [] and kg.matrix_files() == []
        with pytest.raises(StoreError, match="no radiomics matrix"):
            kg.matrix()


def test_a_bad_cell_leaves_neither_graph_nor_file(tmp_path: Path, nsclc: Path) -> None:
    good = tmp_path / "features.csv"
    raw = pd.read_csv(nsclc)
    raw.to_csv(good, index=False)
    with KnowledgeGraph(tmp_path / "store") as kg:
        kg.load(good, kind="radiomics-csv", values="columnar")
        before = (_parquet(tmp_path / "store" / "columnar"), kg.graphs()["graph"].tolist())
        raw["original_firstorder_Mean"] = raw["original_firstorder_Mean"].astype(object)
        raw.loc[40, "original_firstorder_Mean"] = "12,5"
        raw.to_csv(good, index=False)
        with pytest.raises(LoadError, match=r"line 42, field 'original_firstorder_Mean'.*'12,5' is not a number"):
            kg.load(good, kind="radiomics-csv", values="columnar")
        assert (_parquet(tmp_path / "store" / "columnar"), kg.graphs()["graph"].tolist()) == before
        assert not (tmp_path / "store" / "columnar" / ".staging").exists()


def test_a_deleted_or_changed_file_is_named_with_the_way_to_reload(tmp_path: Path, nsclc: Path) -> None:
    with KnowledgeGraph(tmp_path / "store") as kg:
        kg.load(nsclc, kind="radiomics-csv", values="columnar")
        features = kg.matrix_files(kind="radiomics")[0]
    path = tmp_path / "store" / "columnar" / features.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with KnowledgeGraph(tmp_path / "store") as kg:
        with pytest.raises(MatrixIntegrityError) as caught:
            kg.matrix()
        message = str(caught.value)
        assert features.path.split("/")[-1] in message and "checksum does not match" in message
        assert "igkg load nsclc_radiogenomics_original_features.csv --replace" in message
        path.unlink()
        with pytest.raises(MatrixIntegrityError, match="the file is missing"):
            kg.matrix()


def test_the_loader_streams_the_matrix_in_chunks(tmp_path: Path, nsclc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A columnar load holds one chunk of rows at a time (a matrix bigger than memory streams)."""
    from kg.dataplane import DataPlane
    from kg.store.matrices import MatrixSession
    from loaders import _matrices

    monkeypatch.setattr(_matrices, "_CELLS_PER_CHUNK", 107 * 16)  # sixteen rows per chunk
    plane = DataPlane(tmp_path / "plane")
    session = MatrixSession(plane, "radiomics-csv/t.csv", "v1", origin=nsclc)
    context = LoadContext(values="columnar", matrices=session)
    triples = list(parse_radiomics_csv(nsclc, context, LoadReport(str(nsclc), "radiomics-csv")))
    assert triples
    batches = {sink.writer.kind: sink.batches for sink in session._sinks}
    assert batches["radiomics"] == 8  # 117 rows in chunks of 16
    records = session.prepare()
    session.finalise()
    features = next(r for r in records if r.kind == "radiomics")
    raw = _raw_features(nsclc)
    np.testing.assert_array_equal(plane.matrix([features]).loc[raw.index].to_numpy(), raw.to_numpy())


def test_sigkill_during_the_parquet_write_leaves_the_store_as_it_was(tmp_path: Path, nsclc: Path) -> None:
    """A load killed while its matrix is being written: on reopening, no graph, no file, no staging."""
    big = tmp_path / "wide_radiomic_features.csv"
    raw = pd.read_csv(nsclc)
    features = [c for c in raw.columns if c.startswith("original_")]
    rng = np.random.default_rng(7)
    rows = 6000
    frame = pd.DataFrame(rng.normal(size=(rows, len(features) * 8)),
                         columns=[f"{c.replace('original_', f'wavelet-L{i:02d}_')}" for i in range(8) for c in features])
    frame.insert(0, "Case ID", [f"S{i:05d}" for i in range(rows)])
    frame.to_csv(big, index=False)
    store = tmp_path / "store"
    with KnowledgeGraph(store) as kg:
        kg.load(nsclc, kind="radiomics-csv", values="columnar")
        before = sorted(kg.graphs()["graph"])
    files_before = _parquet(store / "columnar")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "--store", str(store), "load", str(big), "--kind", "radiomics-csv", "--values", "columnar"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    staged = None
    while time.monotonic() < deadline and child.poll() is None:
        staged = next((p for p in (store / "columnar" / ".staging").glob("*/data.parquet") if p.stat().st_size > 0), None)
        if staged is not None:
            break
        time.sleep(0.05)
    assert staged is not None, "the load finished before its matrix was being written"
    child.send_signal(signal.SIGKILL)
    child.wait()
    with KnowledgeGraph(store) as kg:
        assert sorted(kg.graphs()["graph"]) == before
        assert _parquet(store / "columnar") == files_before
        assert not any((store / "columnar" / ".staging").glob("*"))
        assert kg.matrix().shape == (117, 107)
