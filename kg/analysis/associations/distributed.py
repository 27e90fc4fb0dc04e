"""The association engine over tiles of features x targets, locally or on a dask.distributed cluster.

Each tile runs the same engine on a block of feature columns and a block of target columns
and returns every tested pair with its exact p-value (only those with p <= q_max when only
the significant results are asked: a pair with q <= q_max has p <= q_max). The tiles are then
joined and Benjamini-Hochberg (and Bonferroni) computed over the whole analysis, never per
tile. A tile's numbers do not depend on where it runs, so the cluster gives exactly the
numbers of the local tiled run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kg.analysis.associations.kernels import METHODS, _Engine, _Part, describe, prepare
from kg.core.errors import AssociationError
from kg.core.settings import Settings

__all__ = ["TileResult", "associate_tiled", "connect", "scheduler_address"]

logger = logging.getLogger(__name__)

FEATURE_TILE = 512
TARGET_TILE = 2048


@dataclass(frozen=True)
class TileResult:
    """The tested pairs of one tile (feature / target positions in the whole analysis) and its test count.

    >>> tile = TileResult(np.array([0]), np.array([0]), np.array([0.83]), np.array([0.83]), np.array([0.04]), np.array([6]), tests=1)
    >>> tile.tests, tile.p.tolist()
    (1, [0.04])
    """

    fi: np.ndarray
    ti: np.ndarray
    statistic: np.ndarray
    effect: np.ndarray
    p: np.ndarray
    n: np.ndarray
    tests: int


def run_tile(x: np.ndarray, y: np.ndarray, f_offset: int, t_offset: int, method: str, min_n: int, q_max: float,
             only_significant: bool) -> TileResult:
    """Test the feature block ``x`` against the target block ``y`` (rows = the same subjects).

    BLAS runs single-threaded here: the sums of a matrix product then come in one order,
    so a tile gives the same bits on any machine with the same numpy (here or on a worker).
    """
    from threadpoolctl import threadpool_limits

    engine = _Engine(METHODS[method], min_n=min_n, q_max=q_max, only_significant=False, chunk_size=2048)
    with threadpool_limits(limits=1, user_api="blas"):
        engine.run(_aligned(x), _aligned(y))
    fields = ("fi", "ti", "statistic", "effect", "p", "n")
    if engine.parts:
        cat = {f: np.concatenate([getattr(part, f) for part in engine.parts]) for f in fields}
    else:
        cat = {f: np.empty(0, dtype=int if f in ("fi", "ti", "n") else float) for f in fields}
    keep = cat["p"] <= q_max if only_significant else np.ones(len(cat["p"]), dtype=bool)
    return TileResult(cat["fi"][keep] + f_offset, cat["ti"][keep] + t_offset, cat["statistic"][keep],
                      cat["effect"][keep], cat["p"][keep], cat["n"][keep], engine.tests)


def _aligned(values: np.ndarray, alignment: int = 64) -> np.ndarray:
    """A C-contiguous copy starting on an ``alignment``-byte boundary: SIMD sums then split the
    same way whatever buffer the block arrived in (a worker gets it unpickled, anywhere)."""
    values = np.asarray(values, dtype=np.float64)
    raw = np.empty(values.size * values.itemsize + alignment, dtype=np.uint8)
    start = (-raw.ctypes.data) % alignment
    out = raw[start:start + values.size * values.itemsize].view(np.float64).reshape(values.shape)
    out[...] = values
    return out


def _tiles(n_features: int, n_targets: int, f_tile: int, t_tile: int) -> Iterator[tuple[int, int, int, int]]:
    for fs in range(0, n_features, f_tile):
        for ts in range(0, n_targets, t_tile):
            yield fs, min(fs + f_tile, n_features), ts, min(ts + t_tile, n_targets)


def associate_tiled(
    features: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    method: str = "spearman",
    min_n: int = 10,
    q_max: float = 0.05,
    only_significant: bool = False,
    client: Any = None,
    feature_tile: int = FEATURE_TILE,
    target_tile: int = TARGET_TILE,
) -> pd.DataFrame:
    """``kernels.associate`` over tiles: on ``client`` (a ``distributed.Client``) when given, else here.

    Same inputs, columns and ``attrs`` as ``associate``; BH-FDR over all tests of the analysis.

    >>> x = pd.DataFrame({"f": [1.0, 2, 3, 4, 5, 6]}, index=list("abcdef"))
    >>> y = pd.DataFrame({"t": [2.0, 1, 4, 3, 6, 5]}, index=list("abcdef"))
    >>> associate_tiled(x, y, min_n=5, feature_tile=1).round(4).to_dict("records")   # as kernels.associate
    [{'feature': 'f', 'target': 't', 'method': 'spearman', 'statistic': 0.8286, 'effect_size': 0.8286, 'p': 0.0416, 'q': 0.0416, 'bonferroni': 0.0416, 'n': 6}]
    """
    spec, f, t, f_values, t_values, left_out, skipped = prepare(features, targets, method)
    del spec
    min_n_used = max(int(min_n), 3)
    tiles = list(_tiles(f_values.shape[1], t_values.shape[1], max(1, feature_tile), max(1, target_tile)))
    if client is None:
        # blocks as the workers get them (C-contiguous copies): the same memory layout, the same sums
        results = [run_tile(np.ascontiguousarray(f_values[:, a:b]), np.ascontiguousarray(t_values[:, c:d]), a, c, method,
                            min_n_used, q_max, only_significant) for a, b, c, d in tiles]
    else:
        logger.info("associate on dask: %d tiles of %d x %d", len(tiles), feature_tile, target_tile)
        f_blocks = {a: client.scatter(np.ascontiguousarray(f_values[:, a:b]), hash=False) for a, b, _, _ in tiles}
        t_blocks = {c: client.scatter(np.ascontiguousarray(t_values[:, c:d]), hash=False) for _, _, c, d in tiles}
        futures = [client.submit(run_tile, f_blocks[a], t_blocks[c], a, c, method, min_n_used, q_max, only_significant,
                                 pure=False) for a, _, c, _ in tiles]
        results = client.gather(futures)
    engine = _Engine(METHODS[method], min_n=min_n_used, q_max=q_max, only_significant=False, chunk_size=2048)
    engine.tests = sum(r.tests for r in results)
    engine.parts = [_Part(r.fi, r.ti, r.statistic, r.effect, r.p, r.n) for r in results if len(r.p)]
    frame = engine.frame([str(c) for c in f.columns], [str(c) for c in t.columns])
    if only_significant:
        frame = frame[frame["q"] <= q_max].reset_index(drop=True)
        if frame.empty:  # the empty result of ``associate``, column types included
            frame = _Engine(METHODS[method], min_n=min_n_used, q_max=q_max, only_significant=False, chunk_size=1).frame([], [])
    return describe(frame, engine.tests, method=method, subjects=len(f), left_out=left_out, skipped=skipped,
                    min_n=min_n_used, q_max=q_max)


def scheduler_address(address: str | None = None) -> str | None:
    """The dask scheduler to use: ``address``, else ``IGKG_DASK_SCHEDULER``, else ``None`` (local).

    >>> scheduler_address("tcp://10.0.0.1:8786")
    'tcp://10.0.0.1:8786'
    """
    return address or Settings.from_env().dask_scheduler or None


def connect(address: str, *, timeout: float = 30.0) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` whose workers can import igkg.

    :raises AssociationError: the scheduler cannot be reached (the message names it).

    >>> connect("tcp://127.0.0.1:1", timeout=1)   # nobody listens on port 1
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: cannot reach the dask scheduler at tcp://127.0.0.1:1 (...); start it, or run without --scheduler
    """
    from distributed import Client

    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise AssociationError(f"cannot reach the dask scheduler at {address} ({exc}); start it, or run without --scheduler") from None
    missing = client.run(_can_import_igkg)
    bad = sorted(worker for worker, ok in missing.items() if not ok)
    if bad:
        client.close()
        raise AssociationError(
            f"dask worker(s) {', '.join(bad)} cannot import igkg; start them from the igkg environment "
            f"(PYTHONPATH={os.getcwd()})"
        )
    return client


def _can_import_igkg() -> bool:
    try:
        import kg.analysis.associations.kernels  # noqa: F401
    except ImportError:
        return False
    return True
