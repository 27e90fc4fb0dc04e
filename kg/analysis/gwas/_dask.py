"""The same GWAS on a dask.distributed cluster: blocks mapped to workers, results back in block order.

The design (residualised phenotypes, QRs) is computed once here and broadcast. A source that can jump
to any variant (``random_access``) and can be reopened (``opener``) is read by the workers themselves,
each opening the file once; otherwise this process reads the blocks and ships them. Every block runs
the same code as :func:`iter_linear_gwas`, so the numbers are the same.
"""

from __future__ import annotations

import logging
import pickle
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ._design import GwasDesign, prepare_design
from ._run import GenotypeSourceLike, GwasOptions, block_results

__all__ = ["iter_linear_gwas_dask"]

log = logging.getLogger(__name__)

_OPEN_SOURCES: dict[bytes, Any] = {}  # per worker process: opener -> open source


def _worker_source(opener: Callable[[], Any]) -> Any:
    key = pickle.dumps(opener)
    if key not in _OPEN_SOURCES:
        _OPEN_SOURCES.clear()  # one open file per worker process is enough
        _OPEN_SOURCES[key] = opener()
    return _OPEN_SOURCES[key]


def _read_and_test(opener: Callable[[], Any], start: int, stop: int, design: GwasDesign,
                   variants: pd.DataFrame, options: GwasOptions) -> pd.DataFrame:
    source = _worker_source(opener)
    dosages = source.read(start, stop, samples=design.sample_index)
    return block_results(design, dosages, variants, options)


def _test(dosages: np.ndarray, design: GwasDesign, variants: pd.DataFrame, options: GwasOptions) -> pd.DataFrame:
    return block_results(design, dosages, variants, options)


def iter_linear_gwas_dask(
    client: Any,
    source: GenotypeSourceLike,
    phenotypes: pd.DataFrame,
    covariates: pd.DataFrame | None = None,
    *,
    key: str = "iid",
    block_size: int = 2048,
    maf_min: float = 0.0,
    p_max: float | None = None,
    log10_p: bool = False,
    threads: int | None = 1,
    max_in_flight: int | None = None,
) -> Iterator[pd.DataFrame]:
    """:func:`iter_linear_gwas` with the blocks computed on ``client``'s workers; same rows, same order.

    At most ``max_in_flight`` blocks (default: twice the worker threads, at least 2) are pending at once,
    so memory stays bounded whatever the number of variants. ``threads`` is per task (default 1: dask
    already runs one task per worker thread).
    """
    design = prepare_design(source.samples, phenotypes, covariates, key=key)
    options = GwasOptions(maf_min=maf_min, p_max=p_max, log10_p=log10_p, threads=threads)
    if max_in_flight is None:
        threads = sum(client.nthreads().values()) or 1
        max_in_flight = max(2, 2 * threads)
    [design_future] = client.scatter([design], broadcast=True)
    opener = getattr(source, "opener", None)
    remote = bool(getattr(source, "random_access", False)) and opener is not None
    log.info("GWAS on dask: %d variants in blocks of %d, %s", len(source.variants), block_size,
             "workers read the genotype file" if remote else "blocks read here and shipped")
    table = source.variants
    pending: deque[Any] = deque()

    def submit(start: int, stop: int, dosages: np.ndarray | None) -> None:
        variants = table.iloc[start:stop]
        if dosages is None:
            future = client.submit(_read_and_test, opener, start, stop, design_future, variants, options,
                                   pure=False)
        else:
            future = client.submit(_test, dosages, design_future, variants, options, pure=False)
        pending.append(future)

    if remote:
        for start in range(0, len(table), block_size):
            submit(start, min(start + block_size, len(table)), None)
            if len(pending) >= max_in_flight:
                yield pending.popleft().result()
    else:
        for block in source.iter_blocks(block_size, samples=design.sample_index):
            span = block[0]
            submit(span.start, span.stop, block[1])
            if len(pending) >= max_in_flight:
                yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
