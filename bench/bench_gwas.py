"""Time the imaging GWAS at real size: 1,000 features x 100,000 variants x 5,000 subjects (10^8 tests).

The kernel (``kg.analysis.gwas.iter_linear_gwas``: residualise once, matrix products per block of
2,048 variants, exact OLS beta / se / t-test p for every test, all 10^8 rows streamed to Parquet) beside

- the bare matrix product of the same shapes (features' x dosages, block by block: the floor any
  exact method pays; target: the GWAS within 3x of it),
- a per-test ``statsmodels`` OLS loop timed on a subset and extrapolated (target: >= 200x faster),
- its own peak RSS at 20,000 and at 100,000 variants, each in a child process (target: bounded, the
  larger run within 1.25x of the smaller: dosages are streamed in blocks, never held whole),
- the same run on a two-worker dask cluster (``LocalCluster``, one thread each; same rows, numbers equal
  up to summation order: beta within 1e-10 se, se within 1e-10 and p within 1e-8 relative).

The dosages are synthetic (binomial(2, maf), maf uniform in 0.05..0.5, 5 planted effects) and made
once per block shape, so the generator costs neither side anything. 3 covariates + intercept.
``run(quick=False) -> list[dict]``; ``python -m bench.bench_gwas [--quick]`` prints them;
``python -m bench.bench_gwas --child ...`` is one measured run (JSON on stdout).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SyntheticGenotypes", "run"]

SECTION = "gwas"
BLOCK = 2048
FULL = {"features": 1000, "variants": 100_000, "subjects": 5000, "small_variants": 20_000}
QUICK = {"features": 20, "variants": 4000, "subjects": 300, "small_variants": 1000}


class SyntheticGenotypes:
    """A ``GenotypeSourceLike`` of ``variants`` synthetic variants; every block of ``BLOCK`` variants holds
    the same dosage matrix (made once), so reading costs only the row selection."""

    random_access = True

    def __init__(self, subjects: int, variants: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.samples = pd.DataFrame({"fid": [f"s{i}" for i in range(subjects)], "iid": [f"s{i}" for i in range(subjects)]})
        self.variants = pd.DataFrame({
            "id": [f"v{i}" for i in range(variants)], "chrom": "1", "pos": np.arange(1, variants + 1, dtype=np.int64),
            "effect_allele": "A", "other_allele": "G",
        })
        maf = rng.uniform(0.05, 0.5, BLOCK)
        self.block = rng.binomial(2, maf, size=(subjects, BLOCK)).astype(np.float64)
        self.opener = functools.partial(SyntheticGenotypes, subjects, variants, seed)

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray:
        block = self.block[:, : stop - start]
        return block if samples is None or len(samples) == len(self.block) else block[samples]

    def iter_blocks(self, block_size: int = BLOCK, *, samples: np.ndarray | None = None, start: int = 0,
                    stop: int | None = None):  # type: ignore[no-untyped-def]
        stop = len(self.variants) if stop is None else stop
        for first in range(start, stop, block_size):
            last = min(first + block_size, stop)
            yield slice(first, last), self.read(first, last, samples=samples)


def _tables(subjects: int, features: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    index = pd.Index([f"s{i}" for i in range(subjects)], name="iid")
    covariates = pd.DataFrame(rng.standard_normal((subjects, 3)), index=index, columns=["age", "sex", "pc1"])
    phenotypes = pd.DataFrame(rng.standard_normal((subjects, features)), index=index,
                              columns=[f"original_firstorder_F{i}" for i in range(features)])
    return phenotypes, covariates


def _gwas(subjects: int, features: int, variants: int, out: Path, scheduler: str | None = None) -> dict[str, Any]:
    from kg.analysis.gwas import iter_linear_gwas, iter_linear_gwas_dask, write_results

    source = SyntheticGenotypes(subjects, variants)
    phenotypes, covariates = _tables(subjects, features)
    started, cpu = time.perf_counter(), _cpu_seconds()
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            rows = write_results(iter_linear_gwas_dask(client, source, phenotypes, covariates, block_size=BLOCK), out)
    else:
        rows = write_results(iter_linear_gwas(source, phenotypes, covariates, block_size=BLOCK, arrow=True), out)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu_seconds() - cpu, "rows": rows}


def _cpu_seconds() -> float:
    """User + system CPU time of this process, all its threads (``getrusage(RUSAGE_SELF)``)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _matmul(subjects: int, features: int, variants: int) -> tuple[float, float]:
    """Wall and CPU seconds of the bare product features' x dosages, block by block (BLAS's own threads)."""
    source = SyntheticGenotypes(subjects, variants)
    phenotypes, _ = _tables(subjects, features)
    y = np.ascontiguousarray(phenotypes.to_numpy())
    started, cpu = time.perf_counter(), _cpu_seconds()
    for _, block in source.iter_blocks(BLOCK):
        y.T @ block
    return time.perf_counter() - started, _cpu_seconds() - cpu


def _statsmodels_per_fit(subjects: int, fits: int = 60) -> float:
    import statsmodels.api as sm

    source = SyntheticGenotypes(subjects, fits)
    phenotypes, covariates = _tables(subjects, 1)
    design = sm.add_constant(covariates.to_numpy())
    y = phenotypes.iloc[:, 0].to_numpy()
    started = time.perf_counter()
    for j in range(fits):
        fit = sm.OLS(y, np.column_stack([design, source.block[:, j]])).fit()
        fit.pvalues  # noqa: B018 - the p-value is part of the work
    return (time.perf_counter() - started) / fits


def _child(args: argparse.Namespace) -> None:
    import importlib

    from bench import emit

    module = importlib.import_module("bench.bench_gwas")  # by its name (not __main__): dask workers unpickle its classes
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "gwas.parquet"
        result = module._gwas(args.subjects, args.features, args.variants, out, args.scheduler)
        if args.keep:
            import shutil

            shutil.copy(out, args.keep)
    if args.matmul:
        result["matmul_seconds"], result["matmul_cpu_seconds"] = _matmul(args.subjects, args.features, args.variants)
    emit(**result)


def _measure(sizes: dict[str, int], variants: int, *, matmul: bool = False, scheduler: str | None = None,
             keep: Path | None = None) -> Any:
    from bench import run_child

    args = ["bench.bench_gwas", "--child", "--subjects", str(sizes["subjects"]), "--features", str(sizes["features"]),
            "--variants", str(variants)]
    if matmul:
        args.append("--matmul")
    if scheduler:
        args += ["--scheduler", scheduler]
    if keep:
        args += ["--keep", str(keep)]
    result = run_child(args, timeout=4 * 3600)
    if result.returncode != 0:
        raise RuntimeError(f"GWAS child failed: {result.stderr[-500:]}")
    return result


def _same_numbers(local: pd.DataFrame, remote: pd.DataFrame) -> tuple[bool, str]:
    """Equal up to floating-point summation order (BLAS in 1-thread workers adds in another order):
    beta within 1e-10 of its standard error, se within 1e-10 relative, p within 1e-8 relative."""
    if len(local) != len(remote):
        return False, f"{len(local)} vs {len(remote)} rows"
    se = local["se"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.nanmax(np.abs(local["beta"].to_numpy() - remote["beta"].to_numpy()) / se)
        se_rel = np.nanmax(np.abs(se - remote["se"].to_numpy()) / se)
        p_rel = np.nanmax(np.abs(local["p"].to_numpy() - remote["p"].to_numpy()) / local["p"].to_numpy())
    text = f"beta {beta:.1e} se, se {se_rel:.1e}, p {p_rel:.1e} (relative)"
    return bool(beta <= 1e-10 and se_rel <= 1e-10 and p_rel <= 1e-8), text


def run(quick: bool = False) -> list[dict[str, Any]]:
    """The rows of the GWAS section (see the module docstring)."""
    sizes = QUICK if quick else FULL
    n, f, m = sizes["subjects"], sizes["features"], sizes["variants"]
    label = f"{f:,}x{m:,}x{n:,}"
    tests = f * m
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        local_out = Path(folder) / "local.parquet"
        big = _measure(sizes, m, matmul=True, keep=local_out)
        small = _measure(sizes, sizes["small_variants"])
        gwas_s, matmul_s = big.data["seconds"], big.data["matmul_seconds"]
        per_fit = _statsmodels_per_fit(n)
        loop_s = per_fit * tests
        gwas_cpu, matmul_cpu = big.data["cpu_seconds"], big.data["matmul_cpu_seconds"]
        rows.append({"section": SECTION,
                     "metric": "GWAS wall time (design, exact OLS beta/se/p of every test, all rows to Parquet) "
                               "vs wall time of the bare matrix product Y'G of the same sizes, same process",
                     "size": label, "igkg": gwas_s, "baseline": matmul_s, "baseline_name": "Y'G matmul (BLAS threads)", "unit": "s",
                     "ratio": matmul_s / gwas_s, "target": "within 3x (ratio >= 0.33)", "ok": gwas_s <= 3 * matmul_s,
                     "note": f"{big.data['rows']:,} result rows, {tests / gwas_s:,.0f} tests/s; CPU (user+sys, all threads) "
                             f"{gwas_cpu:.1f} s vs {matmul_cpu:.1f} s = {gwas_cpu / matmul_cpu:.2f}x"})
        rows.append({"section": SECTION, "metric": "GWAS vs per-test statsmodels OLS loop (extrapolated)", "size": label,
                     "igkg": gwas_s, "baseline": loop_s, "baseline_name": "statsmodels OLS", "unit": "s",
                     "ratio": loop_s / gwas_s, "target": ">= 200x", "ok": loop_s / gwas_s >= 200,
                     "note": f"{per_fit * 1e3:.3f} ms per fit x {tests:,} tests"})
        rows.append({"section": SECTION, "metric": f"peak RSS at {m:,} vs {sizes['small_variants']:,} variants", "size": label,
                     "igkg": big.peak_rss / 2**20, "baseline": small.peak_rss / 2**20, "baseline_name": f"{sizes['small_variants']:,} variants",
                     "unit": "MiB", "ratio": small.peak_rss / big.peak_rss, "target": "bounded (<= 1.25x)",
                     "ok": big.peak_rss <= 1.25 * small.peak_rss,
                     "note": f"dosages alone would be {n * m * 8 / 2**30:.1f} GiB in float64"})
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            remote_out = Path(folder) / "dask.parquet"
            dask = _measure(sizes, m, scheduler=cluster.scheduler_address, keep=remote_out)
        local = pd.read_parquet(local_out, columns=["beta", "se", "p"])
        remote = pd.read_parquet(remote_out, columns=["beta", "se", "p"])
        same, worst = _same_numbers(local, remote)
        rows.append({"section": SECTION, "metric": "same GWAS on a two-worker dask cluster", "size": label,
                     "igkg": dask.data["seconds"], "baseline": gwas_s, "baseline_name": "local", "unit": "s",
                     "ratio": gwas_s / dask.data["seconds"], "target": "same numbers (up to summation order)", "ok": bool(same),
                     "note": f"LocalCluster 2 workers x 1 thread on the same cores; largest difference {worst}"})
    return rows


def main(argv: list[str] | None = None) -> int:
    """CLI: ``--child`` runs one measured GWAS; otherwise print the rows."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_gwas")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--subjects", type=int, default=FULL["subjects"])
    parser.add_argument("--features", type=int, default=FULL["features"])
    parser.add_argument("--variants", type=int, default=FULL["variants"])
    parser.add_argument("--matmul", action="store_true")
    parser.add_argument("--scheduler")
    parser.add_argument("--keep")
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    for row in run(quick=args.quick):
        sys.stdout.write(json.dumps(row, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
