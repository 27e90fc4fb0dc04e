"""Bad input refused before anything is in place; crashes, corruption and deletion handled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kg.dataplane import DataPlane, DataPlaneError, MatrixFile, MatrixIntegrityError

SUBJECT = "http://example.org/igkg/subject/"
ROOT = Path(__file__).resolve().parents[3]


def with_subjects(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The table with its id column replaced by a ``subject`` IRI column."""
    subject = (SUBJECT + frame[id_column].astype(str)).rename("subject")
    return pd.concat([subject, frame.drop(columns=[id_column])], axis=1).copy()


def stored_files(plane: DataPlane) -> list[str]:
    """Every file under the plane's root (staging and bookkeeping included), relative."""
    if not plane.root.exists():
        return []
    return sorted(p.relative_to(plane.root).as_posix() for p in plane.root.rglob("*") if p.is_file())


def commit(plane: DataPlane, frame: pd.DataFrame, *, key: str = "radiomics-csv/nsclc.csv", version: str = "v1",
           batch: int = 40, **options: object) -> MatrixFile:
    with plane.stage(key, version, kind="radiomics", **options) as writer:
        for start in range(0, len(frame), batch):
            writer.write(frame.iloc[start:start + batch])
        record = writer.prepare()
        writer.finalise()
    return record


def refused(plane: DataPlane, frame: pd.DataFrame | list[object], **options: object) -> DataPlaneError:
    """Write ``frame`` (or these batches), expect a DataPlaneError, and check nothing is left."""
    batches = frame if isinstance(frame, list) else [frame.iloc[s:s + 40] for s in range(0, len(frame), 40)]
    with (
        pytest.raises(DataPlaneError) as caught,
        plane.stage("radiomics-csv/bad.csv", "v1", kind="radiomics", origin="bad.csv", **options) as writer,
    ):
        for batch in batches:
            writer.write(batch)
        writer.prepare()
        writer.finalise()
    assert stored_files(plane) == [], "a refused matrix left files behind"
    return caught.value


@pytest.fixture
def table(nsclc: pd.DataFrame) -> pd.DataFrame:
    """NSCLC features keyed by subject IRI, the two text columns dropped."""
    return with_subjects(nsclc, "Case ID").drop(columns=["Gender", "Smoking status"])


# -- bad input ----------------------------------------------------------------------------------

def test_non_numeric_cell(plane: DataPlane, shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv").read_text().splitlines()
    cells = text[57].split(",")
    header = text[0].split(",")
    column = header.index("original_firstorder_Mean")
    cells[column] = "n/a?"
    text[57] = ",".join(cells)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(text) + "\n")
    frame = with_subjects(pd.read_csv(path), "Case ID")
    error = refused(plane, frame, categorical=["Gender", "Smoking status"], first_line=2)
    # the 57th data row is line 58 of the file
    assert (error.row, error.line, error.column) == (57, 58, "original_firstorder_Mean")
    assert error.subject == SUBJECT + cells[0]
    assert str(error).startswith(f"bad.csv, line 58, record '{SUBJECT}{cells[0]}', field 'original_firstorder_Mean': "
                                 "non-numeric value 'n/a?'")


def test_duplicate_subject_across_batches(plane: DataPlane, table: pd.DataFrame) -> None:
    repeated = pd.concat([table, table.iloc[[5]]], ignore_index=True)
    error = refused(plane, repeated)
    assert error.row == len(table) + 1
    assert error.subject == table["subject"].iloc[5]
    assert "appears twice" in str(error)


def test_duplicate_subject_and_roi(plane: DataPlane, table: pd.DataFrame) -> None:
    two = pd.concat([table.assign(roi="GTV"), table.assign(roi="GTV-2"), table.iloc[[0]].assign(roi="GTV")])
    error = refused(plane, two)
    assert "subject/roi appears twice (GTV)" in str(error)


def test_duplicate_variable(plane: DataPlane, table: pd.DataFrame) -> None:
    batch = pa.Table.from_pandas(table.iloc[:, :4], preserve_index=False)
    doubled = pa.Table.from_arrays([*batch.columns, batch.column(2)], names=[*batch.column_names, batch.column_names[2]])
    error = refused(plane, [doubled])
    assert error.column == batch.column_names[2] and "appears twice" in str(error)
    pandas_doubled = pd.concat([table.iloc[:, :4], table.iloc[:, [2]]], axis=1)
    assert refused(plane, [pandas_doubled]).column == table.columns[2]
    # two names for one variable IRI
    with pytest.raises(DataPlaneError, match="map to the same IRI"):
        plane.stage("k", "v", kind="radiomics", variables={"a": "http://x/f", "b": "http://x/f"})
    assert stored_files(plane) == []


def test_empty_column(plane: DataPlane, table: pd.DataFrame) -> None:
    error = refused(plane, table.assign(original_glcm_Idm=np.nan))
    assert error.column == "original_glcm_Idm"
    assert f"empty in all {len(table)} rows" in str(error)


def test_non_finite_value(plane: DataPlane, table: pd.DataFrame) -> None:
    broken = table.copy()
    broken.loc[80, "original_glcm_Idm"] = np.inf
    error = refused(plane, broken)
    assert (error.row, error.column) == (81, "original_glcm_Idm")
    assert "non-finite value inf" in str(error)
    text = table.astype({"original_glcm_Idm": object})
    text.loc[3, "original_glcm_Idm"] = "-Infinity"
    assert refused(plane, text).row == 4


def test_columns_change_between_batches(plane: DataPlane, table: pd.DataFrame) -> None:
    error = refused(plane, [table.iloc[:10], table.iloc[10:20].drop(columns=["original_glcm_Idm"])])
    assert "missing 'original_glcm_Idm'" in str(error)


def test_missing_subject_and_no_rows(plane: DataPlane, table: pd.DataFrame) -> None:
    blank = table.copy()
    blank.loc[7, "subject"] = None
    assert refused(plane, blank).row == 8
    assert "no rows" in str(refused(plane, [table.iloc[:0]]))


def test_exception_inside_the_block_aborts(plane: DataPlane, table: pd.DataFrame) -> None:
    with (
        pytest.raises(RuntimeError, match="catalog commit failed"),
        plane.stage("radiomics-csv/t.csv", "v1", kind="radiomics") as writer,
    ):
        writer.write(table)
        writer.prepare()
        raise RuntimeError("catalog commit failed")
    assert stored_files(plane) == []


# -- replace, drop, recovery ------------------------------------------------------------------

def test_replace_then_drop(plane: DataPlane, table: pd.DataFrame) -> None:
    old = commit(plane, table, version="v1")
    new = commit(plane, table.assign(original_glcm_Idm=table["original_glcm_Idm"] + 1), version="v2")
    assert old.path != new.path
    assert plane.drop([old]) == [old.path]  # after the catalog switched to v2
    assert plane.files() == [new.path]
    with pytest.raises(MatrixIntegrityError, match="missing"):
        plane.matrix([old])
    assert plane.matrix([new], variables=["original_glcm_Idm"]).iloc[0, 0] == table["original_glcm_Idm"].iloc[0] + 1
    plane.drop([new.path])
    assert stored_files(plane) == [".checksums.json"]


def test_recovery_removes_unlisted_files_and_reports_missing(plane: DataPlane, table: pd.DataFrame) -> None:
    kept = commit(plane, table, key="radiomics-csv/a.csv")
    orphan = commit(plane, table, key="radiomics-csv/b.csv")  # e.g. a crash between catalog drop and file drop
    report = DataPlane(plane.root).recover({kept.path, "gone/v1/radiomics.parquet"})
    assert report.removed_files == [orphan.path]
    assert report.missing == ["gone/v1/radiomics.parquet"]
    assert plane.files() == [kept.path]
    assert DataPlane(plane.root).recover({kept.path}).clean


def test_recovery_leaves_a_live_writer_alone(plane: DataPlane, table: pd.DataFrame) -> None:
    with plane.stage("radiomics-csv/t.csv", "v1", kind="radiomics") as writer:
        writer.write(table.iloc[:50])
        report = DataPlane(plane.root).recover(set())
        assert len(report.busy_staging) == 1 and not report.removed_staging
        writer.write(table.iloc[50:])
        record = writer.prepare()
        writer.finalise()
    assert plane.matrix([record]).shape == (117, table.shape[1] - 1)


_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys, time
    import pandas as pd
    from kg.dataplane import DataPlane
    root, csv, mode = sys.argv[1:4]
    frame = pd.read_csv(csv).rename(columns={"ID": "subject"})
    plane = DataPlane(root)
    with plane.stage("expression/lung.csv", "v1", kind="expression", row_group_rows=4) as writer:
        for i in range(10_000):
            writer.write(frame.iloc[(i % 11) * 4:(i % 11) * 4 + 4].assign(subject=lambda f: f["subject"] + f"-{i}"))
            if mode == "write" and i == 3:
                print("writing", flush=True)
            if mode == "prepared" and i == 10:
                record = writer.prepare()
                print(json.dumps(record.to_dict()), flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "write" and i > 3:
                time.sleep(0.01)
    """
)


def _child(root: Path, csv: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), str(csv), mode],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_sigkill_during_the_write_leaves_nothing(tmp_path: Path, shared_data: Path) -> None:
    root = tmp_path / "columnar"
    child = _child(root, shared_data / "radiogenomics" / "imagene_lung" / "Lung_gene_expression_new_cohort_n44.csv",
                   "write")
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    staged = list((root / ".staging").glob("*/data.parquet"))
    assert len(staged) == 1
    size = staged[0].stat().st_size
    deadline = time.monotonic() + 60
    while staged[0].stat().st_size == size and time.monotonic() < deadline:  # row groups are landing
        time.sleep(0.05)
    assert staged[0].stat().st_size > size
    child.send_signal(signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    plane = DataPlane(root)
    report = plane.recover(set())
    assert len(report.removed_staging) == 1 and not report.rolled_forward
    assert stored_files(plane) == []


@pytest.mark.parametrize("committed", [True, False], ids=["catalog-committed", "catalog-not-committed"])
def test_sigkill_between_prepare_and_finalise(tmp_path: Path, shared_data: Path, committed: bool) -> None:
    root = tmp_path / "columnar"
    csv = shared_data / "radiogenomics" / "imagene_lung" / "Lung_gene_expression_new_cohort_n44.csv"
    child = _child(root, csv, "prepared")
    assert child.stdout is not None
    record = MatrixFile.from_dict(json.loads(child.stdout.readline()))
    assert child.wait(30) == -signal.SIGKILL
    assert not (root / record.path).exists()
    plane = DataPlane(root)
    report = plane.recover({record.path} if committed else set())
    assert len(report.removed_staging) == 1
    if committed:  # the catalog lists it: recovery finishes the rename
        assert report.rolled_forward == [record.path]
        assert plane.files() == [record.path]
        back = plane.matrix([record], variables=["A2M", "TP53"])
        expected = pd.read_csv(csv).iloc[:44]
        assert back.shape == (44, 2)
        assert np.array_equal(back["A2M"].to_numpy(), expected["A2M"].to_numpy())
    else:
        assert stored_files(plane) == []


# -- damage behind igkg's back -------------------------------------------------------------------

def test_corrupted_file_is_detected_with_the_fix(plane: DataPlane, table: pd.DataFrame) -> None:
    record = commit(plane, table)
    path = plane.root / record.path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    path.write_bytes(bytes(data))
    fresh = DataPlane(plane.root)  # a later open: the cached checksum no longer matches (mtime changed)
    with pytest.raises(MatrixIntegrityError) as caught:
        fresh.matrix([record], variables=["original_glcm_Idm"])
    message = str(caught.value)
    assert str(path) in message and "checksum does not match" in message
    assert "igkg load nsclc.csv --replace" in message and "igkg drop nsclc.csv" in message


def test_truncated_or_deleted_file_is_detected(plane: DataPlane, table: pd.DataFrame) -> None:
    record = commit(plane, table)
    path = plane.root / record.path
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(MatrixIntegrityError, match=f"is {record.byte_size - 100} bytes but the catalog recorded"):
        plane.matrix([record])
    path.unlink()
    with pytest.raises(MatrixIntegrityError, match="the file is missing; reload the source"):
        DataPlane(plane.root).matrix([record])


def test_checksum_is_computed_once_per_size_and_mtime(plane: DataPlane, table: pd.DataFrame) -> None:
    record = commit(plane, table)
    cache = json.loads((plane.root / ".checksums.json").read_text())
    stat = (plane.root / record.path).stat()
    assert cache[record.path] == [stat.st_size, stat.st_mtime_ns, record.checksum]
    # a change that keeps size and mtime is not re-hashed (the documented cost trade-off) ...
    path = plane.root / record.path
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    DataPlane(plane.root).verify(record)
    # ... and any other change is
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    with pytest.raises(MatrixIntegrityError, match="checksum does not match"):
        DataPlane(plane.root).verify(record)
