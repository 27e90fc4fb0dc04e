"""Streaming a linear GWAS over dosage blocks: one result frame per block, written as it comes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ._design import GwasDesign, GwasError, prepare_design
from ._kernel import block_statistics

__all__ = [
    "RESULT_COLUMNS",
    "GenotypeSourceLike",
    "GwasOptions",
    "block_results",
    "iter_linear_gwas",
    "linear_gwas",
    "write_results",
]

log = logging.getLogger(__name__)

RESULT_COLUMNS = ("feature", "variant", "chrom", "pos", "effect_allele", "other_allele", "eaf", "beta", "se", "p", "n")
_WORDS = ("feature", "variant", "chrom", "effect_allele", "other_allele")  # dictionary-encoded strings


class GenotypeSourceLike(Protocol):
    """What the GWAS needs from a genotype reader (``loaders._genotypes.GenotypeSource`` fits)."""

    samples: pd.DataFrame
    variants: pd.DataFrame

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray: ...

    def iter_blocks(self, block_size: int = ..., *, samples: np.ndarray | None = ...,
                    start: int = ..., stop: int | None = ...) -> Iterable[Any]: ...


@dataclass(frozen=True)
class GwasOptions:
    """Per-run options: ``maf_min`` on each group's subjects, ``p_max`` keeps rows with p <= it."""

    maf_min: float = 0.0
    p_max: float | None = None
    log10_p: bool = False
    threads: int | None = None  # for the p-values; None = the CPUs this process may use


def block_results(design: GwasDesign, dosages: np.ndarray, variants: pd.DataFrame, options: GwasOptions) -> pd.DataFrame:
    """Result rows of one block: ``dosages`` are design rows x block variants, ``variants`` their table rows.

    Rows are ordered by phenotype group, then feature, then variant. The string columns (feature,
    variant, chrom, alleles) are categoricals: cheap to build, written as Parquet dictionaries.
    """
    if dosages.shape != (len(design.sample_index), len(variants)):
        raise GwasError(f"dosage block of shape {dosages.shape} for {len(design.sample_index)} subjects x "
                        f"{len(variants)} variants")
    feature_type = pd.CategoricalDtype(list(design.features))
    ids = pd.Index(variants["id"].astype(str).to_numpy())
    if not ids.is_unique:
        raise GwasError(f"variant id {ids[ids.duplicated()][0]!r} appears twice in one block")
    # block-level string columns as (codes, categories): rows then only gather small integers
    words = {column: pd.factorize(variants[column].astype(str).to_numpy())
             for column in ("chrom", "effect_allele", "other_allele")}
    positions = variants["pos"].to_numpy(np.int64)
    frames = []
    for group in design.groups:
        stats = block_statistics(group, dosages, maf_min=options.maf_min, log10_p=options.log10_p,
                                 threads=options.threads)
        f, m = stats.beta.shape
        if not f or not m:
            continue
        variant_codes = np.tile(stats.columns, f)
        frame = {
            "feature": pd.Categorical.from_codes(np.repeat(group.feature_codes, m), dtype=feature_type),
            "variant": pd.Categorical.from_codes(variant_codes, categories=ids, validate=False),
            "chrom": _categorical(words["chrom"], variant_codes),
            "pos": positions[variant_codes],
            "effect_allele": _categorical(words["effect_allele"], variant_codes),
            "other_allele": _categorical(words["other_allele"], variant_codes),
            "eaf": np.tile(stats.eaf, f),
            "beta": stats.beta.ravel(),
            "se": stats.se.ravel(),
            "p": stats.p.ravel(),
            "n": np.full(f * m, group.n, dtype=np.int64),
        }
        if stats.log10_p is not None:
            frame["log10_p"] = stats.log10_p.ravel()
        out = pd.DataFrame(frame)
        if options.p_max is not None:
            out = out[out["p"] <= options.p_max]
        frames.append(out)
    if not frames:
        return empty_results(design, options)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)


def _categorical(factorized: tuple[np.ndarray, np.ndarray], rows: np.ndarray) -> pd.Categorical:
    codes, uniques = factorized
    return pd.Categorical.from_codes(codes[rows], categories=pd.Index(uniques), validate=False)


def empty_results(design: GwasDesign, options: GwasOptions) -> pd.DataFrame:
    columns: dict[str, pd.Series] = {c: pd.Series(dtype=object) for c in RESULT_COLUMNS}
    columns["feature"] = pd.Series(pd.Categorical([], categories=list(design.features)))
    for name in ("eaf", "beta", "se", "p"):
        columns[name] = pd.Series(dtype=np.float64)
    columns["pos"] = pd.Series(dtype=np.int64)
    columns["n"] = pd.Series(dtype=np.int64)
    if options.log10_p:
        columns["log10_p"] = pd.Series(dtype=np.float64)
    return pd.DataFrame(columns)


def iter_linear_gwas(
    source: GenotypeSourceLike,
    phenotypes: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    *,
    key: str = "iid",
    block_size: int = 2048,
    maf_min: float = 0.0,
    p_max: float | None = None,
    log10_p: bool = False,
    threads: int | None = None,
    design: GwasDesign | None = None,
) -> Iterator[pd.DataFrame]:
    """Test every phenotype column against every variant of ``source``; one result frame per block.

    Model per test: ``feature ~ 1 + covariates + dosage`` by OLS on the subjects with genotypes, that
    feature and every covariate (``n``); exact beta, se (df = n - k - 1), two-sided t-test p. Only one
    block of dosages is in memory at a time. Columns: ``feature, variant, chrom, pos, effect_allele,
    other_allele, eaf, beta, se, p, n`` (+ ``log10_p`` if asked). See ``_kernel`` for the algebra.

    :raises GwasError: see :func:`prepare_design`.
    """
    design = design or prepare_design(source.samples, phenotypes, covariates, key=key)
    options = GwasOptions(maf_min=maf_min, p_max=p_max, log10_p=log10_p, threads=threads)
    table = source.variants
    for block in source.iter_blocks(block_size, samples=design.sample_index):
        span, dosages = block[0], block[1]
        yield block_results(design, dosages, table.iloc[span], options)


def linear_gwas(
    source: GenotypeSourceLike,
    phenotypes: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """All results of :func:`iter_linear_gwas` in one frame (small runs and tests)."""
    frames = list(iter_linear_gwas(source, phenotypes, covariates, **options))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(RESULT_COLUMNS))


def write_results(frames: Iterable[pd.DataFrame], path: str | Path) -> int:
    """Stream result frames to ``.parquet`` (pyarrow, one row group per frame) or ``.csv``; returns rows.

    Parquet columns: feature, variant, chrom and alleles dictionary-encoded strings, pos and n int64,
    eaf/beta/se/p float64 (zstd; dictionary encoding only for the strings). Each frame is written in a
    background thread while the next one is computed (at most two frames in memory). The file appears
    complete or not at all: it is written under ``<name>.partial`` and renamed at the end.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise ValueError(f"output must end in .parquet or .csv, not {path.name!r}")
    partial = path.with_name(path.name + ".partial")
    try:
        rows = _write_csv(frames, partial) if suffix == ".csv" else _write_parquet(frames, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    log.info("%s: %d result rows written", path, rows)
    return rows


def _write_csv(frames: Iterable[pd.DataFrame], target: Path) -> int:
    rows = 0
    with target.open("w", encoding="utf-8", newline="") as handle:
        for index, frame in enumerate(frames):
            frame.to_csv(handle, index=False, header=index == 0)  # shortest round-trip floats
            rows += len(frame)
    if rows == 0:
        target.write_text(",".join(RESULT_COLUMNS) + "\n", encoding="utf-8")
    return rows


def _write_parquet(frames: Iterable[pd.DataFrame], target: Path) -> int:
    from concurrent.futures import Future, ThreadPoolExecutor

    import pyarrow.parquet as pq

    rows = 0
    writer = None
    schema = arrow_schema(False)
    pending: Future[None] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="gwas-parquet") as background:
        try:
            for frame in frames:
                if writer is None:
                    schema = arrow_schema("log10_p" in frame.columns)
                    writer = pq.ParquetWriter(target, schema, compression="zstd", use_dictionary=list(_WORDS))
                table = to_arrow(frame).select(schema.names).cast(schema)
                if pending is not None:
                    pending.result()
                pending = background.submit(writer.write_table, table)
                rows += len(frame)
            if pending is not None:
                pending.result()
            if writer is None:
                writer = pq.ParquetWriter(target, schema, compression="zstd", use_dictionary=list(_WORDS))
        finally:
            if pending is not None and not pending.done():
                pending.exception()  # let a running write finish before the file is closed
            if writer is not None:
                writer.close()
    return rows


def arrow_schema(log10_p: bool = False):  # type: ignore[no-untyped-def]
    """The Parquet schema of the results (feature and variant dictionary-encoded)."""
    import pyarrow as pa

    words = pa.dictionary(pa.int32(), pa.string())
    fields = [("feature", words), ("variant", words), ("chrom", words), ("pos", pa.int64()),
              ("effect_allele", words), ("other_allele", words), ("eaf", pa.float64()),
              ("beta", pa.float64()), ("se", pa.float64()), ("p", pa.float64()), ("n", pa.int64())]
    if log10_p:
        fields.append(("log10_p", pa.float64()))
    return pa.schema(fields)


def to_arrow(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    """A result frame as a pyarrow Table (categoricals become dictionary arrays, no copy of the floats)."""
    import pyarrow as pa

    arrays = {}
    for column in frame.columns:
        values = frame[column]
        if column in _WORDS:
            values = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype(str).astype("category")
            arrays[column] = pa.DictionaryArray.from_arrays(
                pa.array(values.cat.codes.to_numpy().astype(np.int32)),
                pa.array(values.cat.categories.astype(str).to_numpy(), type=pa.string()))
        else:
            arrays[column] = pa.array(values.to_numpy())
    return pa.table(arrays)
