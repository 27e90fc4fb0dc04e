"""The benchmark's outputs: a Markdown table (``latest.md``), a PNG of cost against size, JSON.

Every row shows igkg, the baseline, the ratio and the target; a missed target reads
**MISSED** in the table and in the console summary.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import Row

__all__ = ["machine", "plot", "summary_lines", "write_markdown"]

_PACKAGES = ("igkg", "pyoxigraph", "oxrdflib", "rdflib", "pandas", "numpy", "scipy", "fastapi", "uvicorn", "httpx", "rdflib-endpoint")


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and package versions of this run."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        ram = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:  # pragma: no cover
        ram = "unknown"
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit == "triples/s" or unit == "rows/s" or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _status(row: Row) -> str:
    if row.ok is None:
        return ""
    return "met" if row.ok else "**MISSED**"


def write_markdown(path: Path, rows: list[Row], info: dict[str, Any], shapes: dict[str, Any], seconds: float) -> None:
    """Write the results table grouped by section, with the machine and the data shapes."""
    lines = ["# igkg benchmark: latest run", ""]
    lines.append(
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}, Python {info['python']}. "
        + ", ".join(f"{k} {v}" for k, v in info["packages"].items())
        + f". Total run time {seconds / 60:.1f} min."
    )
    lines += ["", "Generated graphs (deterministic, seed 42):", ""]
    lines.append("| size | triples | subjects (ROIs) | features/ROI | measurements | genes | pathways | MeSH-like terms | associations |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for label, s in shapes.items():
        lines.append(
            f"| {label} | {s['triples']:,} | {s['subjects']:,} | {s['features_per_roi']:,} | {s['measurements']:,} | "
            f"{s['genes']:,} | {s['pathways']:,} | {s['descriptors']:,} | {s['associations']:,} |"
        )
    sections: dict[str, list[Row]] = {}
    for row in rows:
        sections.setdefault(row.section, []).append(row)
    for section, items in sections.items():
        lines += ["", f"## {section}", ""]
        lines.append("| metric | size | igkg | baseline | unit | igkg advantage | target | status | note |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for r in items:
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "n/a"
            baseline = f"{_fmt(r.baseline, r.unit)} ({r.baseline_name})" if r.baseline_name else _fmt(r.baseline, r.unit)
            lines.append(
                f"| {r.metric} | {r.size} | {_fmt(r.igkg, r.unit)} | {baseline} | {r.unit} | {ratio} | {r.target} | "
                f"{_status(r)} | {r.note.replace('|', '/')} |"
            )
    missed = [r for r in rows if r.ok is False]
    lines += ["", "## Targets", ""]
    if missed:
        lines += [f"- **MISSED**: {r.section} / {r.metric} at {r.size}: {r.target} (ratio {r.ratio if r.ratio is None else round(r.ratio, 2)})" for r in missed]
    checked = sum(1 for r in rows if r.ok is not None)
    lines.append(f"- {checked - len(missed)} of {checked} checked targets met.")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def summary_lines(rows: list[Row]) -> list[str]:
    """Console lines: each row with its ratio and MET/MISSED."""
    out = []
    for r in rows:
        ratio = f"{r.ratio:8.2f}x" if r.ratio is not None else "     n/a "
        flag = {True: "met", False: "MISSED", None: ""}[r.ok]
        out.append(
            f"{r.section:9} {r.size:>5} {r.metric[:58]:58} igkg {_fmt(r.igkg, r.unit):>12} | "
            f"base {_fmt(r.baseline, r.unit):>12} {r.unit:12} {ratio} {r.target:28} {flag}"
        )
    return out


def plot(path: Path, load: dict[str, Any], shapes: dict[str, Any]) -> None:
    """Seconds to load and peak RSS against graph size, one line per contender (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for contender, style in (("igkg", "o-"), ("pyoxigraph", "s--"), ("rdflib", "^:")):
        xs, secs, rss, ext = [], [], [], []
        for label, figures in load.items():
            f = figures.get(contender, {})
            if f.get("seconds") is None:
                continue
            xs.append(shapes[label]["triples"])
            secs.append(f["seconds"])
            rss.append((f.get("rss") or 0) / 2**20)
            ext.append(bool(f.get("extrapolated")))
        if not xs:
            continue
        name = {"igkg": "igkg load", "pyoxigraph": "pyoxigraph bulk_load", "rdflib": "rdflib Graph.parse"}[contender]
        left.plot(xs, secs, style, label=name)
        right.plot(xs, rss, style, label=name)
        for x, s, r, e in zip(xs, secs, rss, ext, strict=True):
            if e:
                left.annotate("extrapolated", (x, s), fontsize=7)
                right.annotate("extrapolated", (x, r), fontsize=7)
    for ax, title, unit in ((left, "load time", "seconds"), (right, "peak RSS", "MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("triples")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_json(path: Path, rows: list[Row], info: dict[str, Any], shapes: dict[str, Any], load: dict[str, Any]) -> None:
    """Everything measured, machine-readable."""
    path.write_text(
        json.dumps({"machine": info, "shapes": shapes, "load": load, "rows": [r.to_dict() for r in rows]}, indent=1, default=str),
        encoding="utf-8",
    )
