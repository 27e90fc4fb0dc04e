"""igkg's benchmark suite: ``python -m bench`` (``make bench``) runs every step in one go.

Each step returns ``Row`` records: one measured figure of igkg beside its baseline, with
the ratio and the target it is checked against. Contenders that load data run in child
processes so that each one's peak RSS is its own (``os.wait4`` rusage).

Optional steps written elsewhere (``bench/bench_associations.py``,
``bench/bench_endpoint.py``, ``bench/bench_extraction.py``, ``bench/bench_gwas.py``, ``bench/bench_reference.py``)
are called when present: each exposes ``run(quick: bool = False)`` returning a list of
dicts with the keys of ``Row`` (at least ``section`` and ``metric``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ChildResult", "Row", "run_child"]


@dataclass
class Row:
    """One line of the results table."""

    section: str
    metric: str
    size: str = ""
    igkg: float | None = None
    baseline: float | None = None
    baseline_name: str = ""
    unit: str = ""
    ratio: float | None = None
    """How many times better igkg is than the baseline (higher is better)."""
    target: str = ""
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


@dataclass
class ChildResult:
    """What a child process reported, with its wall time and its own peak RSS."""

    data: dict[str, Any]
    seconds: float
    peak_rss: int
    """bytes"""
    returncode: int
    timed_out: bool = False
    stderr: str = ""


def run_child(args: list[str], *, timeout: float, env: dict[str, str] | None = None) -> ChildResult:
    """Run ``python -m <args>``; it prints JSON lines; their merge is ``data``.

    Peak RSS comes from ``os.wait4`` (the rusage of that one child), so contenders run one
    after another never see each other's memory.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                timed_out = True
                break
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        data: dict[str, Any] = {}
        for line in out.read().decode("utf-8", "replace").splitlines():
            line = line.strip()
            if line.startswith("{"):
                data.update(json.loads(line))
        return ChildResult(
            data=data,
            seconds=seconds,
            peak_rss=int(usage.ru_maxrss) * 1024,
            returncode=process.returncode,
            timed_out=timed_out,
            stderr=err.read().decode("utf-8", "replace")[-2000:],
        )


def emit(**data: Any) -> None:
    """Print one JSON line from a child (its report to the parent)."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def peak_rss_self() -> int:
    """This process's peak RSS so far, in bytes."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def workdir() -> Path:
    """Where generated graphs and stores go (``IGKG_BENCH_DIR``, else a temp folder)."""
    path = Path(os.environ.get("IGKG_BENCH_DIR") or Path(tempfile.gettempdir()) / "igkg-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path
