"""Benchmark of the data plane (not a test): write a synthetic subjects x features matrix, read 100.

``python -m kg.dataplane.bench 20000 4000 [--csv] [--folder DIR]`` prints one JSON line:
write time (staged write + prepare + finalise, generation excluded), peak RSS of the process,
file size, and the time to read 100 features through a freshly opened plane.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import psutil

from kg.core.files import sha256 as sha256_file
from kg.dataplane.plane import DataPlane

__all__ = ["bench_write_read"]

_IMAGE_TYPES = ("original", "wavelet-LLH", "wavelet-HLL", "log-sigma-1-0-mm-3D", "square", "logarithm")
_CLASSES = ("firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")


def _names(n: int) -> list[str]:
    """pyradiomics-shaped feature names (image type, class, feature), as many as asked."""
    return [f"{_IMAGE_TYPES[i % len(_IMAGE_TYPES)]}_{_CLASSES[(i // 6) % len(_CLASSES)]}_Feature{i}" for i in range(n)]


class _PeakRSS:
    """Samples the process RSS with psutil every 20 ms; ``peak`` in bytes."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        process = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _batches(n_subjects: int, names: list[str], rows: int, seed: int):
    rng = np.random.default_rng(seed)
    for start in range(0, n_subjects, rows):
        stop = min(start + rows, n_subjects)
        values = rng.lognormal(mean=0.0, sigma=1.0, size=(stop - start, len(names)))
        frame = pd.DataFrame(values, columns=names)
        frame.insert(0, "subject", [f"http://example.org/igkg/subject/S{i:07d}" for i in range(start, stop)])
        yield frame


def bench_write_read(
    n_subjects: int,
    n_features: int,
    *,
    folder: str | Path | None = None,
    rows_per_batch: int = 1000,
    csv: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``n_subjects`` x ``n_features`` float64 values through a staged writer and read 100
    features back; returns the timings (seconds), sizes and peak RSS (bytes).

    ``csv=True`` first writes the matrix as a CSV and times the load from it (pandas chunks
    of ``rows_per_batch`` rows into the writer), as ``igkg load --values columnar`` will.

    >>> result = bench_write_read(10, 5)
    >>> result["values"], result["write_s"] >= 0
    (50, True)
    """
    work = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="igkg-dataplane-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    names = _names(n_features)
    columns = {name: f"http://example.org/igkg/feature/{name}" for name in names}
    result: dict[str, Any] = {"subjects": n_subjects, "features": n_features, "values": n_subjects * n_features}
    try:
        source = None
        if csv:
            source = work / "matrix.csv"
            started = time.perf_counter()
            for i, frame in enumerate(_batches(n_subjects, names, rows_per_batch, seed)):
                frame.to_csv(source, mode="w" if i == 0 else "a", header=i == 0, index=False)
            result["csv_generate_s"] = round(time.perf_counter() - started, 2)
            result["csv_bytes"] = source.stat().st_size
        plane = DataPlane(work / "columnar")
        generate = 0.0
        with _PeakRSS() as rss:
            started = time.perf_counter()
            with plane.stage("bench/matrix", "v1", kind="radiomics", variables=columns,
                             origin=str(source or "generated")) as writer:
                if source is not None:
                    for chunk in pd.read_csv(source, chunksize=rows_per_batch, dtype={"subject": str}):
                        writer.write(chunk)
                else:
                    batches = _batches(n_subjects, names, rows_per_batch, seed)
                    while True:
                        t0 = time.perf_counter()
                        frame = next(batches, None)
                        generate += time.perf_counter() - t0
                        if frame is None:
                            break
                        writer.write(frame)
                record = writer.prepare()
                writer.finalise()
            result["write_s"] = round(time.perf_counter() - started - generate, 2)
            result["generate_s"] = round(generate, 2)
        result["peak_rss_bytes"] = rss.peak
        result["ru_maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result["file_bytes"] = record.byte_size
        plane.close()

        wanted = names[:: max(1, n_features // 100)][:100]
        fresh = DataPlane(work / "columnar")  # a new open: checksum cached on disk, DuckDB cold
        started = time.perf_counter()
        part = fresh.matrix([record], variables=wanted)
        result["read100_s"] = round(time.perf_counter() - started, 3)
        assert part.shape == (n_subjects, len(wanted))
        started = time.perf_counter()
        fresh.matrix([record], variables=wanted)
        result["read100_warm_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        sha256_file(work / "columnar" / record.path)
        result["checksum_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        blocks = sum(b.shape[1] for b in fresh.iter_columns([record], block=500))
        result["read_all_in_blocks_s"] = round(time.perf_counter() - started, 2)
        assert blocks == n_features
        fresh.close()
    finally:
        if folder is None:
            shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m kg.dataplane.bench N_SUBJECTS N_FEATURES [--csv] [--folder DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("subjects", type=int)
    parser.add_argument("features", type=int)
    parser.add_argument("--csv", action="store_true", help="time the load from a CSV file")
    parser.add_argument("--folder", help="work folder (kept); default a temporary one (removed)")
    parser.add_argument("--rows-per-batch", type=int, default=1000)
    args = parser.parse_args(argv)
    print(json.dumps(bench_write_read(args.subjects, args.features, folder=args.folder, csv=args.csv,
                                      rows_per_batch=args.rows_per_batch)))


if __name__ == "__main__":
    main()
