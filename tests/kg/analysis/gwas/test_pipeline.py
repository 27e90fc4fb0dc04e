"""The fast path of the GWAS: Arrow tables built directly (``arrow=True``) hold the pandas frames' rows,
blocks computed in worker threads come out in order with the serial numbers, the caller's dosages are
never centred in place, and ``p_max`` builds only the rows it keeps — on REGENIE's example genotypes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kg.analysis.gwas import (
    RESULT_COLUMNS,
    arrow_schema,
    block_statistics,
    iter_linear_gwas,
    prepare_design,
    write_results,
)
from loaders._genotypes import open_genotypes


def _inputs(regenie: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    def keyed(path: Path) -> pd.DataFrame:
        return pd.read_csv(path, sep=r"\s+", dtype={"FID": str, "IID": str}).drop(columns="FID").set_index("IID")

    pheno = keyed(regenie / "phenotype.txt")
    pheno.loc[pheno.index[:30], "Y2"] = np.nan  # two phenotype groups
    return pheno, keyed(regenie / "covariates.txt")[["V1", "V2", "V3"]]


def test_arrow_tables_pipelined_equal_serial_frames(shared_data: Path, tmp_path: Path) -> None:
    regenie = shared_data / "genotypes" / "regenie_example"
    pheno, cov = _inputs(regenie)
    with open_genotypes(regenie / "example.bed") as source:
        frames = list(iter_linear_gwas(source, pheno, cov, block_size=128, pipeline=1))
        tables = list(iter_linear_gwas(source, pheno, cov, block_size=128, pipeline=3, arrow=True))
        rows = write_results(iter_linear_gwas(source, pheno, cov, block_size=128, arrow=True), tmp_path / "gwas.parquet")
    assert len(frames) == len(tables) == 8 and all(isinstance(t, pa.Table) for t in tables)
    serial = pd.concat(frames, ignore_index=True)
    piped = pa.concat_tables(tables).to_pandas()
    assert list(piped.columns) == list(RESULT_COLUMNS) and len(piped) == len(serial) == 2 * 1000 == rows
    for column in ("feature", "variant", "chrom", "effect_allele", "other_allele"):
        assert piped[column].astype(str).tolist() == serial[column].astype(str).tolist()  # same rows, same order
    for column in ("pos", "n"):
        np.testing.assert_array_equal(piped[column].to_numpy(), serial[column].to_numpy())
    for column in ("eaf", "beta", "se", "p"):  # up to BLAS summation order (1 vs 2 threads)
        np.testing.assert_allclose(piped[column].to_numpy(), serial[column].to_numpy(), rtol=1e-10)
    assert set(serial.groupby("feature", observed=True)["n"].first()) == {500, 470}
    written = pq.ParquetFile(tmp_path / "gwas.parquet")
    assert written.schema_arrow.equals(arrow_schema()) and written.metadata.num_row_groups == 8
    assert written.metadata.row_group(0).column(7).compression == "SNAPPY"
    np.testing.assert_allclose(written.read(columns=["p"])["p"].to_numpy(), serial["p"].to_numpy(), rtol=1e-10)


def test_p_max_builds_only_its_rows_and_an_empty_block_keeps_the_columns(shared_data: Path) -> None:
    regenie = shared_data / "genotypes" / "regenie_example"
    pheno, cov = _inputs(regenie)
    with open_genotypes(regenie / "example.bed") as source:
        everything = pa.concat_tables(iter_linear_gwas(source, pheno, cov, block_size=256, arrow=True)).to_pandas()
        hits = pa.concat_tables(iter_linear_gwas(source, pheno, cov, block_size=256, arrow=True, p_max=0.05)).to_pandas()
        none = list(iter_linear_gwas(source, pheno, cov, block_size=256, p_max=1e-300))
    expected = everything[everything["p"] <= 0.05].reset_index(drop=True)
    assert 0 < len(hits) == len(expected) < len(everything)
    pd.testing.assert_frame_equal(hits.astype({c: str for c in ("feature", "variant", "chrom", "effect_allele", "other_allele")}),
                                  expected.astype({c: str for c in ("feature", "variant", "chrom", "effect_allele", "other_allele")}),
                                  rtol=1e-10)
    assert all(list(frame.columns) == list(RESULT_COLUMNS) and frame.empty for frame in none)


def test_the_callers_dosages_are_not_centred_in_place(shared_data: Path) -> None:
    regenie = shared_data / "genotypes" / "regenie_example"
    pheno, cov = _inputs(regenie)
    with open_genotypes(regenie / "example.bed") as source:
        design = prepare_design(source.samples, pheno[["Y1"]], cov)
        dosages = source.read(0, 200, samples=design.sample_index)
    before = dosages.copy()
    stats = block_statistics(design.groups[0], dosages)
    np.testing.assert_array_equal(dosages, before)
    np.testing.assert_allclose(stats.eaf, np.nanmean(before, axis=0) / 2, rtol=1e-12)
