"""Time pyradiomics extraction of the sample cases serially and in parallel (all cores).

``run()`` returns one dict per mode (workers, cases, seconds, speed-up); ``python
bench/bench_extraction.py [--repeat N]`` prints them. The cases are the pyradiomics samples in
``examples/data/pyradiomics`` (each listed ``--repeat`` times, default 4, so that every core
has work) with ``Params.yaml`` (original image, all classes).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

from loaders.pyradiomics import extract_cases, load_settings, read_manifest

__all__ = ["run"]

SAMPLES = Path(__file__).resolve().parent.parent / "examples" / "data" / "pyradiomics"


def run(repeat: int = 4) -> list[dict[str, object]]:
    """Extract the sample cases with 1 worker and with all cores; return the timings."""
    settings = load_settings(SAMPLES / "Params.yaml")
    base = read_manifest(SAMPLES / "manifest.csv")
    cases = [replace(c, line=c.line + 100 * i, subject=f"{c.subject}-{i}") for i in range(repeat) for c in base]
    rows: list[dict[str, object]] = []
    for workers in (1, os.cpu_count() or 1):
        started = time.perf_counter()
        results = extract_cases(cases, settings, workers=workers)
        seconds = time.perf_counter() - started
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        rows.append({"workers": workers, "cases": len(cases), "seconds": round(seconds, 2)})
    for row in rows:
        row["speedup"] = round(float(rows[0]["seconds"]) / float(row["seconds"]), 2)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="how many times each sample case is listed")
    for row in run(parser.parse_args().repeat):
        print(f"workers={row['workers']:>2}  cases={row['cases']}  {row['seconds']:>7.2f} s  speed-up x{row['speedup']}")
