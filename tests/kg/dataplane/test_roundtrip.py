"""Real matrices written and read back exactly: NSCLC features, ImaGene expression, PLINK dosages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kg.dataplane import MEDIA_TYPE, DataPlane, DataPlaneError

SUBJECT = "http://example.org/igkg/subject/"
FEATURE = "http://example.org/igkg/feature/"


def with_subjects(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """The table with its id column replaced by a ``subject`` IRI column."""
    subject = (SUBJECT + frame[id_column].astype(str)).rename("subject")
    return pd.concat([subject, frame.drop(columns=[id_column])], axis=1).copy()


def stored_files(plane: DataPlane) -> list[str]:
    """Every file under the plane's root (staging and bookkeeping included), relative."""
    if not plane.root.exists():
        return []
    return sorted(p.relative_to(plane.root).as_posix() for p in plane.root.rglob("*") if p.is_file())


def _commit(plane: DataPlane, frame: pd.DataFrame, *, batch: int, key: str = "radiomics-csv/t.csv",
            version: str = "v1", **options: object):
    columns = {c: FEATURE + c for c in frame.columns if c not in ("subject", "roi", "replicate")}
    with plane.stage(key, version, variables=columns, **options) as writer:
        for start in range(0, len(frame), batch):
            writer.write(frame.iloc[start:start + batch])
        record = writer.prepare()
        writer.finalise()
    return record


def _same_bits(left: np.ndarray, right: np.ndarray) -> bool:
    """Equal float64 arrays bit for bit (NaN where NaN)."""
    left = np.ascontiguousarray(left, dtype=np.float64)
    right = np.ascontiguousarray(right, dtype=np.float64)
    return left.shape == right.shape and bool(np.array_equal(left.view(np.int64), right.view(np.int64)))


def test_nsclc_table_reads_back_exactly(plane: DataPlane, nsclc: pd.DataFrame) -> None:
    table = with_subjects(nsclc, "Case ID")
    categorical = ["Gender", "Smoking status"]
    record = _commit(plane, table, batch=50, kind="radiomics", categorical=categorical, origin="nsclc.csv")

    assert (record.rows, record.columns) == (117, 110)
    assert record.media_type == MEDIA_TYPE
    path = plane.root / record.path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.checksum
    assert path.stat().st_size == record.byte_size
    assert stored_files(plane) == [".checksums.json", record.path]

    back = plane.matrix([record])
    assert back.index.name == "subject"
    assert back.index.tolist() == table["subject"].tolist()
    assert back.columns.tolist() == table.columns[1:].tolist()
    numeric = [c for c in back.columns if c not in categorical]
    assert _same_bits(back[numeric].to_numpy(), table[numeric].to_numpy(dtype=np.float64))
    for name in categorical:
        assert isinstance(back[name].dtype, pd.CategoricalDtype)
        assert back[name].astype(str).tolist() == table[name].tolist()
        assert list(back[name].cat.categories) == list(dict.fromkeys(table[name]))
    assert plane.column_map(record) == {c: FEATURE + c for c in table.columns[1:]}
    # the column map is in the file's own Parquet metadata too
    assert b"igkg.matrix" in pq.read_metadata(path).metadata


def test_imagene_expression_reads_back_exactly(plane: DataPlane, imagene: pd.DataFrame) -> None:
    table = with_subjects(imagene, "ID")
    record = _commit(plane, table, batch=10, kind="expression", row_group_rows=16)
    assert (record.rows, record.columns) == (44, 5159)
    assert pq.read_metadata(plane.root / record.path).num_row_groups == 3

    back = plane.matrix([record])
    assert back.shape == (44, 5159)
    assert back.columns.tolist() == imagene.columns[1:].tolist()
    assert _same_bits(back.to_numpy(), imagene.iloc[:, 1:].to_numpy())


def test_projection_of_100_features_and_subjects(plane: DataPlane, imagene: pd.DataFrame) -> None:
    table = with_subjects(imagene, "ID")
    record = _commit(plane, table, batch=44, kind="expression")
    genes = imagene.columns[1:][::51][:100].tolist()
    wanted = [SUBJECT + s for s in ["LUNG9", "LUNG1", "LUNG30"]]

    part = plane.matrix([record], variables=genes, subjects=[*wanted, SUBJECT + "nobody"])
    assert part.columns.tolist() == genes
    assert part.index.tolist() == wanted
    expected = table.set_index("subject").loc[wanted, genes]
    assert _same_bits(part.to_numpy(), expected.to_numpy())

    # a glob keeps the file's order
    glob = plane.matrix([record], variables="EGF*")
    assert glob.columns.tolist() == [g for g in imagene.columns[1:] if g.startswith("EGF")]
    with pytest.raises(DataPlaneError, match="unknown variable.*'NOTAGENE'"):
        plane.matrix([record], variables=["EGFR", "NOTAGENE"])
    with pytest.raises(DataPlaneError, match="no variable matches 'NOSUCH\\*'"):
        plane.matrix([record], variables="NOSUCH*")


def test_blocks_stream_the_same_matrix(plane: DataPlane, imagene: pd.DataFrame) -> None:
    table = with_subjects(imagene, "ID")
    record = _commit(plane, table, batch=7, kind="expression")
    whole = plane.matrix([record])

    blocks = list(plane.iter_columns([record], block=1000))
    assert [b.shape[1] for b in blocks] == [1000] * 5 + [159]
    assert _same_bits(pd.concat(blocks, axis=1).to_numpy(), whole.to_numpy())

    rows = list(plane.iter_rows([record], variables=["A2M", "TP53"], block=10))
    assert [len(b) for b in rows] == [10, 10, 10, 10, 4]
    assert _same_bits(pd.concat(rows).to_numpy(), whole[["A2M", "TP53"]].to_numpy())


def test_values_for_a_named_query(plane: DataPlane, nsclc: pd.DataFrame) -> None:
    table = with_subjects(nsclc, "Case ID")
    record = _commit(plane, table, batch=117, kind="radiomics", categorical=["Gender", "Smoking status"])
    subjects = [SUBJECT + "R01-003", SUBJECT + "R01-146"]
    found = plane.values([record], [*subjects, SUBJECT + "not-in-the-table"], ["original_shape_Elongation", "Gender", "not_loaded"])
    assert found.columns.tolist() == ["subject", "variable", "iri", "value"]
    rows = {(r.subject, r.variable): r.value for r in found.itertuples()}
    source = table.set_index("subject")
    assert len(rows) == 4
    for subject in subjects:
        assert rows[(subject, "original_shape_Elongation")] == source.at[subject, "original_shape_Elongation"]
        assert rows[(subject, "Gender")] == source.at[subject, "Gender"]
    assert set(found["iri"]) == {FEATURE + "original_shape_Elongation", FEATURE + "Gender"}


def test_roi_and_replicate_keys_and_two_sources(plane: DataPlane, nsclc: pd.DataFrame) -> None:
    table = with_subjects(nsclc, "Case ID")[["subject", "original_shape_Elongation", "original_shape_Flatness"]]
    first = table.assign(roi="GTV", replicate=1)
    second = table.assign(roi="GTV", replicate=2, original_shape_Elongation=table["original_shape_Elongation"] * 2)
    record = _commit(plane, pd.concat([first, second]), batch=100, kind="radiomics")
    back = plane.matrix([record])
    assert back.index.names == ["subject", "roi", "replicate"]
    assert back.loc[(SUBJECT + "R01-003", "GTV", 2), "original_shape_Elongation"] == \
        2 * nsclc.set_index("Case ID").at["R01-003", "original_shape_Elongation"]

    # two sources with other variables for the same subjects are merged by subject
    other = with_subjects(nsclc, "Case ID")[["subject", "original_shape_Sphericity"]]
    a = _commit(plane, table, batch=117, kind="radiomics", key="radiomics-csv/a.csv")
    b = _commit(plane, other, batch=117, kind="radiomics", key="radiomics-csv/b.csv")
    merged = plane.matrix([a, b])
    assert merged.shape == (117, 3)
    assert merged.notna().all().all()
    # the same variable in both: refused, naming both files
    c = _commit(plane, table, batch=117, kind="radiomics", key="radiomics-csv/c.csv")
    with pytest.raises(DataPlaneError, match="same variable") as caught:
        plane.matrix([a, c])
    assert a.path in str(caught.value) and c.path in str(caught.value)
    # kind filters the files
    assert plane.matrix([a, b], kind="traits").empty


def _read_bed(prefix: Path, start: int, stop: int, samples: int) -> np.ndarray:
    """PLINK 1 .bed (variant-major) decoded to A1 dosages 0/1/2 (NaN missing), variants start..stop."""
    per_variant = (samples + 3) // 4
    raw = np.fromfile(prefix.with_suffix(".bed"), dtype=np.uint8)
    assert raw[:3].tolist() == [0x6C, 0x1B, 0x01]
    block = raw[3 + start * per_variant: 3 + stop * per_variant].reshape(stop - start, per_variant)
    codes = np.stack([(block >> shift) & 3 for shift in (0, 2, 4, 6)], axis=2).reshape(stop - start, -1)[:, :samples]
    return np.choose(codes, [2.0, np.nan, 1.0, 0.0])


def test_genotype_dosages_by_variable(plane: DataPlane, shared_data: Path) -> None:
    prefix = shared_data / "genotypes" / "regenie_example" / "example"
    fam = pd.read_csv(prefix.with_suffix(".fam"), sep="\t", header=None)
    bim = pd.read_csv(prefix.with_suffix(".bim"), sep="\t", header=None)
    samples = [SUBJECT + f"{f}_{i}" for f, i in zip(fam[0], fam[1], strict=True)]
    variants = [f"{c}:{p}" for c, p in zip(bim[0], bim[3], strict=True)]
    assert (len(samples), len(variants)) == (500, 1000)
    with plane.stage("genotypes/example.bed", "v1", kind="genotypes", layout="by-variable", subjects=samples,
                     row_group_rows=64) as writer:
        for start in range(0, len(variants), 128):  # streamed in blocks of variants
            stop = min(start + 128, len(variants))
            block = _read_bed(prefix, start, stop, len(samples))
            if start == 0:
                block[3, 10:13] = np.nan  # the example has no missing call: make three
            writer.write_variables(block, variants[start:stop])
        record = writer.prepare()
        writer.finalise()
    assert (record.rows, record.columns, record.layout) == (500, 1000, "by-variable")
    assert pq.read_metadata(plane.root / record.path).num_row_groups == 16

    dosages = _read_bed(prefix, 0, 1000, 500)
    reference = dosages.copy()
    dosages[3, 10:13] = np.nan
    picked = [variants[i] for i in (999, 3, 500)]
    part = plane.matrix([record], variables=picked, subjects=samples[10:20])
    assert part.columns.tolist() == picked and part.index.tolist() == samples[10:20]
    expected = dosages[[999, 3, 500]][:, 10:20].T.astype(np.float32)
    assert np.array_equal(part.to_numpy(), expected, equal_nan=True)
    assert np.isnan(part.iloc[:3, 1]).all() and part.iloc[3:, 1].notna().all()
    blocks = list(plane.iter_columns([record], block=300))
    assert np.array_equal(pd.concat(blocks, axis=1).to_numpy().T, dosages.astype(np.float32), equal_nan=True)

    bed_reader = pytest.importorskip("bed_reader")
    with bed_reader.open_bed(prefix.with_suffix(".bed"), count_A1=True) as bed:
        assert np.array_equal(bed.read(dtype="float64"), reference.T)  # the decoder above is right
