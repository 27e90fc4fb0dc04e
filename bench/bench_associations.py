"""Time the association engine at real size: 1,000 features x 20,000 genes x 500 subjects.

Spearman + Benjamini-Hochberg (the significant set at q <= 0.05) beside the bare matrix
product of the same shapes (the floor any vectorised method pays) and a naive per-pair
``scipy.stats.spearmanr`` loop timed on a subset and extrapolated. Peak memory is the
largest extra allocation ``tracemalloc`` sees during the run (numpy reports its buffers
to it). The result is checked against scipy run pair by pair on a random sample of pairs
(plus every significant pair), and, at a smaller size where scipy can do every pair, the
significant set and its q-values against ``scipy.stats.false_discovery_control``.

``run(quick=False) -> list[dict]`` (rows of ``bench.Row``); ``python bench/bench_associations.py
[--quick]`` prints them.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import numpy as np
import pandas as pd
from scipy import stats

from kg.analysis.associations import associate

__all__ = ["run"]

SECTION = "associations"


def _data(subjects: int, features: int, genes: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[int, int]]]:
    """Random features and genes with 50 planted associations (gene j follows feature j)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((subjects, features))
    y = rng.standard_normal((subjects, genes))
    planted = [(j, j) for j in range(min(50, features, genes))]
    for f, g in planted:
        y[:, g] += 0.6 * x[:, f]
    fx = pd.DataFrame(x, columns=[f"original_feature_{i}" for i in range(features)])
    gy = pd.DataFrame(y, columns=[f"GENE{i}" for i in range(genes)])
    return fx, gy, planted


def _best(function, repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def _check_pairs(fx: pd.DataFrame, gy: pd.DataFrame, result: pd.DataFrame, sample: int, seed: int = 1) -> tuple[float, float, int]:
    """Max |r - scipy r| and max relative p error over random pairs and every significant pair."""
    rng = np.random.default_rng(seed)
    fi = rng.integers(0, fx.shape[1], sample)
    ti = rng.integers(0, gy.shape[1], sample)
    pairs = set(zip(fx.columns[fi], gy.columns[ti], strict=True))
    pairs |= set(zip(result["feature"].head(sample), result["target"].head(sample), strict=True))
    features = sorted({f for f, _ in pairs})
    targets = sorted({t for _, t in pairs})
    # The engine on just these columns gives the same per-pair numbers as in the big run.
    full = associate(fx[features], gy[targets], method="spearman", min_n=3).set_index(["feature", "target"])
    r_error = p_error = 0.0
    for feature, target in pairs:
        res = stats.spearmanr(fx[feature], gy[target])
        ours = full.loc[(feature, target)]
        r_error = max(r_error, abs(float(ours["statistic"]) - res.statistic))
        p_error = max(p_error, abs(float(ours["p"]) - res.pvalue) / max(res.pvalue, 1e-300))
    big = result.set_index(["feature", "target"])
    for key in big.index.intersection(full.index):
        r_error = max(r_error, abs(float(big.loc[key, "statistic"]) - float(full.loc[key, "statistic"])))
    return r_error, p_error, len(pairs)


def _check_bh(seed: int = 2) -> tuple[bool, float, int]:
    """At a size scipy can do pair by pair: same significant set and q as false_discovery_control."""
    fx, gy, _ = _data(120, 40, 600, seed=seed)
    rows = []
    for feature in fx.columns:
        for target in gy.columns:
            res = stats.spearmanr(fx[feature], gy[target])
            rows.append((feature, target, res.pvalue))
    ref = pd.DataFrame(rows, columns=["feature", "target", "p"])
    ref["q"] = stats.false_discovery_control(ref["p"])
    ref = ref[ref["q"] <= 0.05].set_index(["feature", "target"]).sort_index()
    ours = associate(fx, gy, method="spearman", q_max=0.05, only_significant=True).set_index(["feature", "target"]).sort_index()
    same = list(ours.index) == list(ref.index)
    q_error = float(np.max(np.abs(ours["q"].to_numpy() - ref["q"].to_numpy()) / ref["q"].to_numpy())) if same and len(ref) else float("nan")
    return same, q_error, len(ref)


def run(quick: bool = False) -> list[dict[str, object]]:
    """Measure and check; one dict per figure (keys of ``bench.Row``)."""
    subjects, features, genes = (200, 200, 2000) if quick else (500, 1000, 20000)
    size = f"{features}x{genes}x{subjects}"
    fx, gy, planted = _data(subjects, features, genes)
    x, y = fx.to_numpy(), gy.to_numpy()
    matmul = _best(lambda: x.T @ y)
    result: pd.DataFrame | None = None

    def engine() -> None:
        nonlocal result
        result = associate(fx, gy, method="spearman", q_max=0.05, only_significant=True)

    seconds = _best(engine)
    gc.collect()
    tracemalloc.start()
    engine()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result is not None
    found = set(zip(result["feature"], result["target"], strict=True))
    recovered = sum((fx.columns[f], gy.columns[g]) in found for f, g in planted)

    sample_pairs = 300
    rng = np.random.default_rng(3)
    picks = list(zip(rng.integers(0, features, sample_pairs), rng.integers(0, genes, sample_pairs), strict=True))
    started = time.perf_counter()
    for f, g in picks:
        stats.spearmanr(x[:, f], y[:, g])
    naive = (time.perf_counter() - started) / sample_pairs * features * genes

    r_error, p_error, checked = _check_pairs(fx, gy, result, 200 if quick else 500)
    same_set, q_error, significant = _check_bh()
    ratio_to_matmul = seconds / matmul
    return [
        {
            "section": SECTION, "metric": "Spearman + BH (significant set, q <= 0.05)", "size": size,
            "igkg": round(seconds, 3), "baseline": round(matmul, 3), "baseline_name": "bare matrix product",
            "unit": "s", "ratio": round(matmul / seconds, 3), "target": "<= 5x the matrix product",
            "ok": ratio_to_matmul <= 5, "note": f"{ratio_to_matmul:.1f}x the matrix product; {len(result)} significant, "
            f"{recovered}/{len(planted)} planted pairs found; {result.attrs['tests']} tests",
        },
        {
            "section": SECTION, "metric": "vs naive per-pair scipy.spearmanr loop (extrapolated)", "size": size,
            "igkg": round(seconds, 3), "baseline": round(naive, 1), "baseline_name": f"scipy loop ({sample_pairs} pairs timed)",
            "unit": "s", "ratio": round(naive / seconds, 1), "target": "", "ok": None,
        },
        {
            "section": SECTION, "metric": "peak extra memory (tracemalloc)", "size": size,
            "igkg": round(peak / 2**20, 1), "baseline": round((x.nbytes + y.nbytes) / 2**20, 1), "baseline_name": "input arrays",
            "unit": "MB", "ratio": None, "target": "bounded by chunks", "ok": None,
        },
        {
            "section": SECTION, "metric": "max |rho - scipy|, max rel. p error (sampled pairs)", "size": size,
            "igkg": r_error, "baseline": p_error, "baseline_name": "scipy.stats.spearmanr per pair", "unit": "",
            "target": "<= 1e-9", "ok": r_error <= 1e-9 and p_error <= 1e-9, "note": f"{checked} pairs",
        },
        {
            "section": SECTION, "metric": "significant set and q vs false_discovery_control", "size": "40x600x120",
            "igkg": q_error, "baseline": significant, "baseline_name": "significant pairs (scipy)", "unit": "rel. q error",
            "target": "same set, <= 1e-9", "ok": bool(same_set and (q_error <= 1e-9 or significant == 0)),
        },
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 features x 2,000 genes x 200 subjects")
    for row in run(parser.parse_args().quick):
        status = "" if row["ok"] is None else ("ok" if row["ok"] else "MISSED")
        print(f"{row['metric']:<55} {row['size']:>16}  igkg {row['igkg']} {row['unit']}  "
              f"{row['baseline_name']}: {row['baseline']}  {status}  {row.get('note', '')}")
