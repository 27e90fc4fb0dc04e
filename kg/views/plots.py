"""Radiogenomics plots with matplotlib: a run's volcano, a features x genes heatmap, a feature by marker.

Every function returns a ``matplotlib.figure.Figure`` on the Agg canvas, made without
``pyplot`` (nothing registers with pyplot's figure manager, nothing is left in the global
``rcParams``: figures are built and written under matplotlib's default style plus igkg's,
in a context that a lock keeps to one thread at a time). ``save`` writes PNG or SVG by
the path's suffix and ``to_svg`` returns the ``<svg>`` element for an HTML page; both give
the same bytes for the same input (no date, a fixed creator, a fixed SVG id salt, text as
SVG ``<text>``).

Points are grouped under SVG ids that say what they are (``volcano-significant``,
``volcano-other``, ``box-points-0`` ...; heatmap cells under ``heatmap-cells``), so a page
or a test can find them.
"""

from __future__ import annotations

import io
import logging
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib.style as mpl_style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "CREATOR",
    "SUFFIXES",
    "box",
    "heatmap",
    "results_matrix",
    "save",
    "to_svg",
    "volcano",
]

logger = logging.getLogger(__name__)

CREATOR = "igkg"
"""Written as the creator (SVG) and software (PNG) of every file, in place of a version and date."""
SUFFIXES = (".png", ".svg")
"""The file types ``save`` writes."""

_DPI = 100
_SIGNIFICANT = "#b2182b"
_OTHER = "#a0a0a0"
_POINTS = "#2166ac"
_STYLE: dict[str, Any] = {
    "svg.hashsalt": CREATOR,
    "svg.fonttype": "none",
    "figure.dpi": _DPI,
    "savefig.dpi": _DPI,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}
_LOCK = threading.RLock()


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's defaults plus igkg's style, for this block only, one thread at a time."""
    with _LOCK, mpl_style.context(["default", _STYLE]):
        yield


def _figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _freeze(fig: Figure) -> Figure:
    """Run the constrained layout once and keep its result, so every later save draws the same positions.

    (Constrained layout starts from the current positions; left on, a second save of the
    same figure would differ in the last digits from the first.)
    """
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return fig


def _require(frame: pd.DataFrame, columns: Sequence[str | None], what: str) -> None:
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what}: no column {', '.join(map(repr, missing))} in the results (columns: {', '.join(map(str, frame.columns))})"
        )


def volcano(
    results: pd.DataFrame,
    *,
    effect: str = "statistic",
    p: str = "p",
    q: str | None = "q",
    label: str = "feature",
    q_max: float = 0.05,
    n_labels: int = 10,
    null: float | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 4.8),
) -> Figure:
    """A volcano plot: ``effect`` against -log10(``p``), one point per row, those with ``q <= q_max`` in red.

    The ``n_labels`` rows with the smallest p are named by their ``label``; a dashed line
    marks the largest p whose q is at most ``q_max`` (the BH cut), a dotted one the
    ``null`` effect if given (0 for a correlation, 0.5 for a common-language effect size).
    Rows without an effect or p are left out (and logged); ``q=None`` colours nothing.
    A p of 0 is drawn at the smallest positive p of the results.

    :raises ValueError: if a named column is missing or no row has both an effect and a p.

    >>> results = pd.DataFrame({"feature": ["a", "b", "c"], "statistic": [0.5, -0.2, 0.1],
    ...                         "p": [0.001, 0.2, 0.04], "q": [0.003, 0.2, 0.06]})
    >>> fig = volcano(results)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('statistic', '−log10(p)')
    """
    _require(results, [effect, p, q, label], "volcano")
    data = results[[c for c in dict.fromkeys([label, effect, p, q]) if c is not None]].copy()
    data[effect] = pd.to_numeric(data[effect], errors="coerce")
    data[p] = pd.to_numeric(data[p], errors="coerce")
    keep = data[effect].notna() & data[p].notna() & np.isfinite(data[effect])
    if not keep.all():
        logger.info(
            "volcano: %d of %d rows have no effect or p and are not drawn", int((~keep).sum()), len(data)
        )
    data = data[keep]
    if data.empty:
        raise ValueError(f"volcano: no row has both {effect!r} and {p!r}")
    pvalues = data[p].to_numpy(dtype=float)
    positive = pvalues[pvalues > 0]
    floor = positive.min() if positive.size else np.finfo(float).tiny
    y = -np.log10(np.clip(pvalues, floor, 1.0))
    x = data[effect].to_numpy(dtype=float)
    significant = (
        (pd.to_numeric(data[q], errors="coerce") <= q_max).to_numpy()
        if q is not None
        else np.zeros(len(data), bool)
    )

    with _style():
        fig = _figure(figsize)
        ax = fig.add_subplot()
        if (~significant).any():
            other = ax.scatter(
                x[~significant],
                y[~significant],
                s=14,
                c=_OTHER,
                alpha=0.8,
                linewidths=0,
                label=f"q > {q_max:g} ({int((~significant).sum())})"
                if q is not None
                else f"tests ({len(x)})",
            )
            other.set_gid("volcano-other")
        if significant.any():
            hits = ax.scatter(
                x[significant],
                y[significant],
                s=18,
                c=_SIGNIFICANT,
                linewidths=0,
                label=f"q ≤ {q_max:g} ({int(significant.sum())})",
            )
            hits.set_gid("volcano-significant")
            cut = -math.log10(max(float(pvalues[significant].max()), floor))
            ax.axhline(
                cut, color=_SIGNIFICANT, linestyle="--", linewidth=0.8, label=f"BH cut at q = {q_max:g}"
            )
        if null is not None:
            ax.axvline(null, color="black", linestyle=":", linewidth=0.8)
        ax.margins(x=0.12, y=0.08)
        order = np.lexsort((data[label].astype(str).to_numpy(), pvalues))[: max(n_labels, 0)]
        _label_points(ax, x, y, [str(v) for v in data[label]], order, middle=null, figsize=figsize)
        ax.set_xlabel(effect)
        ax.set_ylabel(f"−log10({p})")
        n_sig = int(significant.sum())
        ax.set_title(
            title
            if title is not None
            else f"{len(x)} tests" + (f", {n_sig} with q ≤ {q_max:g}" if q is not None else "")
        )
        ax.legend(loc="lower right" if null is None or np.median(x) < null else "lower left", fontsize=8)
        return _freeze(fig)


def _label_points(
    ax: Any,
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    order: np.ndarray,
    *,
    middle: float | None,
    figsize: tuple[float, float],
) -> None:
    """Name the points ``order`` with labels pointing inwards, pushed apart so that none overlap.

    Points left of ``middle`` (default: the middle of the x axis) are labelled on their
    right and the others on their left; labels are stacked downwards from the highest, each
    on a line of its own, with a thin line to their point when moved.
    """
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    centre = (x_low + x_high) / 2 if middle is None else middle
    axes_px = figsize[1] * _DPI * 0.75
    line = (y_high - y_low) * (7 * _DPI / 72 * 1.25) / axes_px
    dx = (x_high - x_low) * 0.02
    chosen = sorted((int(i) for i in order), key=lambda i: (-y[i], names[i]))
    previous = math.inf
    for i in chosen:
        side = -1 if x[i] < centre else 1
        position = min(y[i], previous - line)
        previous = position
        moved = abs(position - y[i]) > line / 4
        text = ax.annotate(
            names[i],
            (x[i], y[i]),
            xytext=(x[i] - side * dx, position),
            textcoords="data",
            ha="left" if side < 0 else "right",
            va="center",
            fontsize=7,
            color="#222222",
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
            arrowprops={"arrowstyle": "-", "linewidth": 0.4, "color": "#777777", "shrinkA": 0, "shrinkB": 2}
            if moved
            else None,
        )
        text.set_in_layout(False)
        text.set_gid(f"volcano-label-{int(np.nonzero(order == i)[0][0])}")


def results_matrix(
    results: pd.DataFrame, *, row: str = "feature", column: str = "target", value: str = "statistic"
) -> pd.DataFrame:
    """Long results (one row per feature and target) as a matrix: ``row`` x ``column`` of ``value``.

    >>> long = pd.DataFrame({"feature": ["a", "a", "b"], "target": ["EGFR", "KRAS", "EGFR"], "statistic": [0.5, -0.2, 0.1]})
    >>> results_matrix(long)
    target   EGFR  KRAS
    feature
    a         0.5  -0.2
    b         0.1   NaN

    :raises ValueError: if a column is missing or a (row, column) pair appears twice.
    """
    _require(results, [row, column, value], "results_matrix")
    repeated = results.duplicated([row, column])
    if repeated.any():
        first = results.loc[repeated, [row, column]].iloc[0].tolist()
        raise ValueError(
            f"results_matrix: {int(repeated.sum())} repeated ({row}, {column}) pairs, e.g. {first}; filter to one run first"
        )
    return results.pivot(index=row, columns=column, values=value)


def heatmap(
    matrix: pd.DataFrame,
    *,
    top: int = 30,
    top_columns: int = 30,
    cluster: bool = False,
    center: float = 0.0,
    q: pd.DataFrame | None = None,
    q_max: float = 0.05,
    value_label: str = "statistic",
    title: str | None = None,
    cmap: str = "RdBu_r",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """A heatmap of ``matrix`` (features as rows, genes or markers as columns, statistics as values).

    Keeps the ``top`` rows with the largest |value - ``center``| anywhere, then the
    ``top_columns`` columns with the largest |value - center| among them; ordered strongest
    first, or by average-linkage clustering (scipy, optimal leaf order; missing values as
    ``center``) with ``cluster=True``. The colour scale is symmetric around ``center``. Cells
    whose ``q`` (a matrix of the same labels) is at most ``q_max`` get a star.

    :raises ValueError: if the matrix has no finite value.

    >>> matrix = pd.DataFrame({"EGFR": [0.5, -0.2], "KRAS": [0.1, 0.3]}, index=["f1", "f2"])
    >>> len(heatmap(matrix).axes)   # the heatmap and its colour bar
    2
    """
    values = matrix.apply(pd.to_numeric, errors="coerce").astype(float)
    values = values.loc[values.notna().any(axis=1), values.notna().any(axis=0)]
    if values.empty:
        raise ValueError("heatmap: the matrix has no finite value")
    distance = (values - center).abs()
    rows = distance.max(axis=1).sort_values(ascending=False, kind="stable").index[:top]
    columns = distance.loc[rows].max(axis=0).sort_values(ascending=False, kind="stable").index[:top_columns]
    shown = values.loc[rows, columns]
    if cluster:
        shown = shown.iloc[_leaf_order(shown.fillna(center).to_numpy()), :]
        shown = shown.iloc[:, _leaf_order(shown.fillna(center).to_numpy().T)]
    limit = float(np.nanmax(np.abs(shown.to_numpy() - center))) or 1.0
    n_rows, n_cols = shown.shape
    if figsize is None:
        longest_row = max(len(str(r)) for r in shown.index)
        figsize = (min(2.4 + 0.055 * longest_row + 0.22 * n_cols, 20.0), min(1.8 + 0.2 * n_rows, 20.0))

    with _style():
        fig = _figure(figsize)
        ax = fig.add_subplot()
        mesh = ax.pcolormesh(
            np.ma.masked_invalid(shown.to_numpy()),
            cmap=cmap,
            vmin=center - limit,
            vmax=center + limit,
            edgecolors="white",
            linewidth=0.3,
        )
        mesh.set_gid("heatmap-cells")
        ax.set_xticks(np.arange(n_cols) + 0.5, [str(c) for c in shown.columns], rotation=90, fontsize=7)
        ax.set_yticks(np.arange(n_rows) + 0.5, [str(r) for r in shown.index], fontsize=7)
        ax.set_xlim(0, n_cols)
        ax.set_ylim(n_rows, 0)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if q is not None:
            stars = (
                q.reindex(index=shown.index, columns=shown.columns)
                .apply(pd.to_numeric, errors="coerce")
                .to_numpy()
                <= q_max
            )
            for i, j in zip(*np.nonzero(stars), strict=True):
                ax.text(
                    j + 0.5, i + 0.5, "*", ha="center", va="center", fontsize=8, gid=f"heatmap-star-{i}-{j}"
                )
        bar = fig.colorbar(mesh, ax=ax, shrink=min(1.0, 6 / max(n_rows, 1) + 0.3), pad=0.02)
        bar.set_label(value_label)
        stars_note = f"; * q ≤ {q_max:g}" if q is not None else ""
        ax.set_title(
            title
            if title is not None
            else f"top {n_rows} of {len(values)} features x {n_cols} of {values.shape[1]} targets{stars_note}"
        )
        return _freeze(fig)


def _leaf_order(points: np.ndarray) -> np.ndarray:
    """Rows of ``points`` in the leaf order of an average-linkage tree (optimal ordering)."""
    if len(points) < 3:
        return np.arange(len(points))
    from scipy.cluster.hierarchy import leaves_list, linkage

    return leaves_list(linkage(points, method="average", metric="euclidean", optimal_ordering=True))


def box(
    values: pd.Series,
    groups: pd.Series,
    *,
    feature: str | None = None,
    marker: str | None = None,
    order: Sequence[Any] | None = None,
    note: str | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (4.8, 4.8),
) -> Figure:
    """A box plot of one feature's ``values`` by ``groups`` (a marker's status), with every subject as a point.

    ``values`` and ``groups`` are matched on their index (subjects); subjects missing
    either are left out. Groups are drawn in ``order`` (default: sorted), each labelled with
    its n; points are jittered sideways by a fixed-seed generator, so the same input gives
    the same picture. ``note`` (e.g. the test and its q) is written under the title.

    :raises ValueError: if no subject has both a value and a group, or ``order`` misses a group.

    >>> values = pd.Series([1.0, 2.0, 3.0, 4.0], index=["s1", "s2", "s3", "s4"], name="Sphericity")
    >>> status = pd.Series(["mutant", "wildtype", "mutant", "wildtype"], index=values.index, name="EGFR")
    >>> [tick.get_text() for tick in box(values, status).axes[0].get_xticklabels()]
    ['mutant\\n(n = 2)', 'wildtype\\n(n = 2)']
    """
    feature = feature if feature is not None else str(values.name or "value")
    marker = marker if marker is not None else str(groups.name or "group")
    data = pd.concat(
        {"value": pd.to_numeric(values, errors="coerce"), "group": groups}, axis=1, join="inner"
    ).dropna()
    if data.empty:
        raise ValueError(
            f"box: no subject has both a value of {feature!r} and a {marker!r} group (check that both are indexed by subject)"
        )
    present = list(pd.unique(data["group"]))
    if order is None:
        order = sorted(
            present,
            key=lambda g: (
                not isinstance(g, (int, float, np.number)),
                g if isinstance(g, (int, float, np.number)) else str(g),
            ),
        )
    else:
        missing = [g for g in present if g not in list(order)]
        if missing:
            raise ValueError(f"box: groups {missing} of {marker!r} are not in order={list(order)}")
        order = [g for g in order if g in present]
    samples = [data.loc[data["group"] == g, "value"].to_numpy(dtype=float) for g in order]
    rng = np.random.default_rng(0)

    with _style():
        fig = _figure(figsize)
        ax = fig.add_subplot()
        ax.boxplot(
            samples,
            positions=np.arange(len(order)),
            widths=0.5,
            showfliers=False,
            medianprops={"color": "black"},
            boxprops={"color": "#444444"},
            whiskerprops={"color": "#444444"},
            capprops={"color": "#444444"},
        )
        for i, sample in enumerate(samples):
            jitter = rng.uniform(-0.14, 0.14, size=len(sample))
            points = ax.scatter(i + jitter, sample, s=12, c=_POINTS, alpha=0.7, linewidths=0, zorder=3)
            points.set_gid(f"box-points-{i}")
        ax.set_xticks(
            np.arange(len(order)),
            [f"{_group_name(g)}\n(n = {len(s)})" for g, s in zip(order, samples, strict=True)],
        )
        ax.set_xlabel(marker)
        ax.set_ylabel(feature)
        heading = title if title is not None else f"{feature} by {marker}"
        ax.set_title(heading + (f"\n{note}" if note else ""))
        return _freeze(fig)


def _group_name(group: Any) -> str:
    if isinstance(group, float) and group.is_integer():
        return str(int(group))
    return str(group)


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` as PNG or SVG, by its suffix; the same figure gives the same bytes.

    :raises ValueError: if the suffix is not ``.png`` or ``.svg``.

    >>> import pathlib, tempfile
    >>> fig = heatmap(pd.DataFrame({"EGFR": [0.5, -0.2]}, index=["f1", "f2"]))
    >>> save(fig, pathlib.Path(tempfile.mkdtemp()) / "heatmap.svg").suffix
    '.svg'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: cannot write a plot as {path.suffix or 'a file without a suffix'!r}; name it .png or .svg"
        )
    with path.open("wb") as handle:
        _write(fig, handle, suffix[1:])
    logger.info("plot written to %s", path)
    return path


def to_svg(fig: Figure) -> str:
    """``fig`` as an ``<svg>`` element (no XML declaration or DOCTYPE), to put inline in an HTML page.

    >>> to_svg(heatmap(pd.DataFrame({"EGFR": [0.5, -0.2]}, index=["f1", "f2"])))[:4]
    '<svg'
    """
    buffer = io.BytesIO()
    _write(fig, buffer, "svg")
    text = buffer.getvalue().decode("utf-8")
    return text[text.index("<svg") :]


def _write(fig: Figure, handle: Any, fmt: str) -> None:
    metadata = {"Date": None, "Creator": CREATOR} if fmt == "svg" else {"Software": CREATOR}
    with _style():
        fig.savefig(handle, format=fmt, dpi=fig.dpi, metadata=metadata)
