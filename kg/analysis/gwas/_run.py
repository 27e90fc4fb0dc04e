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
    "block_table",
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


def block_table(design: GwasDesign, dosages: np.ndarray, variants: pd.DataFrame, options: GwasOptions) -> Any:
    """Result rows of one block as a ``pyarrow.Table``: ``dosages`` are design rows x block variants,
    ``variants`` their table rows. Columns ``RESULT_COLUMNS`` (+ ``log10_p``) typed as :func:`arrow_schema`.

    Rows are ordered by phenotype group, then feature, then variant. The string columns (feature,
    variant, chrom, alleles) are dictionary arrays over the design's features and the block's
    values (small integer indices, no strings per row); beta, se and p are the kernel's arrays
    without a copy. With ``options.p_max`` only the rows with p <= it are built.
    """
    import pyarrow as pa

    if dosages.shape != (len(design.sample_index), len(variants)):
        raise GwasError(f"dosage block of shape {dosages.shape} for {len(design.sample_index)} subjects x "
                        f"{len(variants)} variants")
    ids = pd.Index(variants["id"].astype(str).to_numpy())
    if not ids.is_unique:
        raise GwasError(f"variant id {ids[ids.duplicated()][0]!r} appears twice in one block")
    schema = arrow_schema(options.log10_p)
    features = pa.array(list(design.features), type=pa.string())
    # block-level string columns as (indices, dictionary): rows then only gather small integers
    dictionaries = {"variant": (np.arange(len(ids), dtype=np.int32), pa.array(ids.to_numpy(), type=pa.string()))}
    for column in ("chrom", "effect_allele", "other_allele"):
        codes, uniques = pd.factorize(variants[column].astype(str).to_numpy())
        dictionaries[column] = (codes.astype(np.int32), pa.array(np.asarray(uniques, dtype=object), type=pa.string()))
    positions = variants["pos"].to_numpy(np.int64)
    tables = []
    for group in design.groups:
        stats = block_statistics(group, dosages, maf_min=options.maf_min, log10_p=options.log10_p,
                                 threads=options.threads)
        f, m = stats.beta.shape
        if not f or not m:
            continue
        floats = {"beta": stats.beta.ravel(), "se": stats.se.ravel(), "p": stats.p.ravel()}
        if stats.log10_p is not None:
            floats["log10_p"] = stats.log10_p.ravel()
        if options.p_max is None:  # every test: tile and repeat the per-variant values (no gathers per row)
            feature_rows = np.repeat(group.feature_codes.astype(np.int32), m)
            per_variant = {name: np.tile(codes[stats.columns] if name != "variant" else stats.columns.astype(np.int32), f)
                           for name, (codes, _) in dictionaries.items()}
            pos, eaf = np.tile(positions[stats.columns], f), np.tile(stats.eaf, f)
        else:
            keep = np.flatnonzero(floats["p"] <= options.p_max)
            floats = {name: values[keep] for name, values in floats.items()}
            feature_rows = group.feature_codes.astype(np.int32)[keep // m]
            columns = stats.columns[keep % m]
            per_variant = {name: codes[columns] if name != "variant" else columns.astype(np.int32)
                           for name, (codes, _) in dictionaries.items()}
            pos, eaf = positions[columns], stats.eaf[keep % m]
        # explicit types: pa.array then wraps the numpy buffers (an untyped float array is scanned)
        arrays = {
            "feature": pa.DictionaryArray.from_arrays(pa.array(feature_rows, type=pa.int32()), features, safe=False),
            **{name: pa.DictionaryArray.from_arrays(pa.array(per_variant[name], type=pa.int32()), words, safe=False)
               for name, (_, words) in dictionaries.items()},
            "pos": pa.array(pos, type=pa.int64()),
            "eaf": pa.array(eaf, type=pa.float64()),
            **{name: pa.array(values, type=pa.float64()) for name, values in floats.items()},
            "n": pa.array(np.full(len(pos), group.n, dtype=np.int64), type=pa.int64()),
        }
        tables.append(pa.table([arrays[name] for name in schema.names], schema=schema))
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def block_results(design: GwasDesign, dosages: np.ndarray, variants: pd.DataFrame, options: GwasOptions) -> pd.DataFrame:
    """:func:`block_table` as a pandas frame (string columns categorical, pos and n int64, the rest float64)."""
    table = block_table(design, dosages, variants, options)
    if not table.num_rows:
        return empty_results(design, options)
    return table.to_pandas()


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
    arrow: bool = False,
    pipeline: int | None = None,
) -> Iterator[Any]:
    """Test every phenotype column against every variant of ``source``; one result frame per block.

    Model per test: ``feature ~ 1 + covariates + dosage`` by OLS on the subjects with genotypes, that
    feature and every covariate (``n``); exact beta, se (df = n - k - 1), two-sided t-test p. Columns:
    ``feature, variant, chrom, pos, effect_allele, other_allele, eaf, beta, se, p, n`` (+ ``log10_p`` if
    asked). See ``_kernel`` for the algebra. Frames are pandas (``block_results``), or
    ``pyarrow.Table`` with ``arrow`` (``block_table``: cheaper, what :func:`write_results` writes).

    Blocks are computed ``pipeline`` at a time in worker threads (default: the CPUs this process may
    use, at most 4), so reading one block, the matrix product of another and the p-values and result
    building of a third overlap (numpy, BLAS and scipy release the GIL); frames come out in block
    order, and at most ``pipeline + 1`` blocks are in memory. While pipelined, BLAS gets CPUs //
    ``pipeline`` threads (threadpoolctl; one on 2 CPUs: two single-threaded products beat two
    two-threaded ones fighting for 2 cores) and the p-values one thread per block unless ``threads``
    says otherwise; the numbers are the same. ``pipeline=1`` computes each block in this thread.

    :raises GwasError: see :func:`prepare_design`.
    """
    design = design or prepare_design(source.samples, phenotypes, covariates, key=key)
    cpus = _cpus()
    depth = min(4, cpus) if pipeline is None else max(1, int(pipeline))
    options = GwasOptions(maf_min=maf_min, p_max=p_max, log10_p=log10_p,
                          threads=threads if threads is not None or depth == 1 else 1)
    table = source.variants
    build = block_table if arrow else block_results
    blocks = ((block[1], table.iloc[block[0]]) for block in source.iter_blocks(block_size, samples=design.sample_index))
    if depth == 1:
        for dosages, variants in blocks:
            yield build(design, dosages, variants, options)
        return
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[Future[Any]] = deque()
    with _blas_threads(max(1, cpus // depth)), ThreadPoolExecutor(depth, thread_name_prefix="gwas-block") as pool:
        try:
            for dosages, variants in blocks:
                pending.append(pool.submit(build, design, dosages, variants, options))
                if len(pending) >= depth:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _blas_threads(limit: int) -> Any:
    """A context limiting BLAS to ``limit`` threads (process-wide), or doing nothing without threadpoolctl."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it BLAS keeps its threads
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def linear_gwas(
    source: GenotypeSourceLike,
    phenotypes: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """All results of :func:`iter_linear_gwas` in one frame (small runs and tests)."""
    frames = list(iter_linear_gwas(source, phenotypes, covariates, **options))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(RESULT_COLUMNS))


def write_results(frames: Iterable[Any], path: str | Path) -> int:
    """Stream result frames (pandas or ``pyarrow.Table``) to ``.parquet`` (one row group per frame) or ``.csv``; returns rows.

    Parquet columns: feature, variant, chrom and alleles dictionary-encoded strings, pos and n int64,
    eaf/beta/se/p float64 (``PARQUET_OPTIONS``; dictionary encoding only for the strings). Each frame is written in a
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


def _write_csv(frames: Iterable[Any], target: Path) -> int:
    rows = 0
    with target.open("w", encoding="utf-8", newline="") as handle:
        for index, frame in enumerate(frames):
            if not isinstance(frame, pd.DataFrame):
                frame = frame.to_pandas()  # a pyarrow Table from iter_linear_gwas(arrow=True)
            frame.to_csv(handle, index=False, header=index == 0)  # shortest round-trip floats
            rows += len(frame)
    if rows == 0:
        target.write_text(",".join(RESULT_COLUMNS) + "\n", encoding="utf-8")
    return rows


PARQUET_OPTIONS = {"compression": "snappy", "write_statistics": False}
"""How result files are written: snappy (every Parquet reader has it; zstd costs ~2x the CPU for ~10%
smaller files of mostly incompressible floats), no column statistics (min/max of p over a block of all
features says nothing and costs a third of the write); strings dictionary-encoded."""


def _write_parquet(frames: Iterable[Any], target: Path) -> int:
    from concurrent.futures import Future, ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    writer = None
    schema = arrow_schema(False)
    pending: Future[None] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="gwas-parquet") as background:
        try:
            for frame in frames:
                if writer is None:
                    schema = arrow_schema("log10_p" in frame.column_names if isinstance(frame, pa.Table) else "log10_p" in frame.columns)
                    writer = pq.ParquetWriter(target, schema, use_dictionary=list(_WORDS), **PARQUET_OPTIONS)
                table = frame if isinstance(frame, pa.Table) and frame.schema.equals(schema) else (
                    (frame if isinstance(frame, pa.Table) else to_arrow(frame)).select(schema.names).cast(schema))
                if pending is not None:
                    pending.result()
                pending = background.submit(writer.write_table, table)
                rows += table.num_rows
            if pending is not None:
                pending.result()
            if writer is None:
                writer = pq.ParquetWriter(target, schema, use_dictionary=list(_WORDS), **PARQUET_OPTIONS)
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
