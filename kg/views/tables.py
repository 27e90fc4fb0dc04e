"""Readable tables of query results for a terminal: CURIEs, labels, 3 significant digits, a fixed width.

``format_table`` returns deterministic plain text (no colour, no terminal needed) that fits
``width`` columns; ``rich_table`` returns the same table as a ``rich`` renderable for a
console of that width (the CLI's ``igkg query --format table``); ``display_frame`` returns
the cell texts as a DataFrame of strings, untruncated, for other views (HTML pages).

What the table does to a DataFrame:

- IRIs, alone or inside text, are written as CURIEs from igkg's one prefix map
  (``http://purl.obolibrary.org/obo/STATO_0000076`` -> ``STATO:0000076``);
- an id is replaced by its label where one is known: from ``labels`` (keyed by IRI or
  CURIE), or from a label column beside it (``<x>Label``, ``<x>_label``, ``<x>_name``; for
  ``<x>_iri`` also ``<x>``), which is then shown in its place;
- integers (and floats that are whole numbers below a million) are written in full, other
  numbers to 3 significant digits, in scientific notation below 1e-3 (below 0.01 for p- and
  q-value columns such as ``p``, ``q``, ``pValue``, ``best_q``, ``fdr``) or from 1e6;
- long text is cut with an ellipsis; columns that are empty everywhere are left out, and
  columns from the right are left out when the rest would not fit; a note under the table
  says how many rows and which columns are not shown.
"""

from __future__ import annotations

import io
import logging
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# The one place igkg's prefix map is imported from (repoint here if it moves).
from kg.core import namespaces

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_WIDTH",
    "display_frame",
    "format_number",
    "format_table",
    "print_table",
    "rich_table",
    "shorten_iris",
]

logger = logging.getLogger(__name__)

DEFAULT_WIDTH = 120
"""Columns of the terminal a table is fitted to when none is given."""
DEFAULT_MAX_ROWS = 25
"""Rows shown before the table says how many more there are."""

_MAX_CELL = 48
"""No column is wider than this; longer text is cut with an ellipsis."""
_MIN_TEXT = 12
"""A text column is not squeezed below this many characters (or its own width if smaller)."""
_MIN_NUMERIC_HEADER = 8
"""A numeric column is as wide as its widest number, and up to this much of its header."""
_GAP = 3
"""Characters between two columns (padding, separator, padding) in the table's box style."""
_ELLIPSIS = "…"
_MIN_ROWS_FOR_CONSTANT = 3
"""Columns with one value are said once under the table (when not all columns fit) from this many rows."""

_IRI = re.compile(r"(?:https?|ftp|urn|file):[^\s|,;<>\"'(){}\[\]]+")
_P_TOKENS = frozenset({"p", "q", "pval", "pvalue", "qval", "qvalue", "padj", "fdr", "bonferroni", "fwer"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class _Prepared:
    """Cell texts of a table, whether each column is numeric, and what was left out."""

    frame: pd.DataFrame
    numeric: dict[str, bool]
    empty_columns: list[str]


def format_number(value: float, *, scientific_below: float = 1e-3) -> str:
    """A number to 3 significant digits; whole numbers below a million in full.

    Scientific notation is used for magnitudes below ``scientific_below`` and from 1e6.

    >>> [format_number(x) for x in (1546.0, 0.692652, 12.345, 0.00374216, 2.5e7, 0.0, 117)]
    ['1546', '0.693', '12.3', '0.00374', '2.50e+07', '0', '117']
    >>> format_number(0.000374216), format_number(-1234.5678)
    ('3.74e-04', '-1230')
    >>> format_number(0.00374216, scientific_below=0.01), format_number(0.0354991, scientific_below=0.01)
    ('3.74e-03', '0.0355')
    >>> format_number(9.9996), format_number(float("nan")), format_number(float("-inf"))
    ('10.0', '', '-inf')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    x = float(value)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    rounded = float(f"{x:.3g}")
    magnitude = abs(rounded)
    if magnitude < scientific_below or magnitude >= 1e6:
        return f"{x:.2e}"
    decimals = 2 - math.floor(math.log10(magnitude))
    if decimals > 0:
        return f"{rounded:.{decimals}f}"
    return f"{rounded:.0f}"


def shorten_iris(text: str, labels: Mapping[str, str] | None = None) -> str:
    """Every IRI in ``text`` as its label (from ``labels``, by IRI or CURIE) or else its CURIE.

    IRIs under no known prefix are left as they are.

    >>> shorten_iris("http://purl.obolibrary.org/obo/STATO_0000076")
    'STATO:0000076'
    >>> shorten_iris("http://identifiers.org/ncbigene/1956 | http://example.org/x", {"ncbigene:1956": "EGFR"})
    'EGFR | http://example.org/x'
    """

    def replace(match: re.Match[str]) -> str:
        iri = match.group(0)
        curie = namespaces.CONVERTER.compress(iri)  # built on first use (curies is slow to import)
        if labels:
            label = labels.get(iri) or (labels.get(curie) if curie else None)
            if label:
                return str(label)
        return curie or iri

    return _IRI.sub(replace, text)


def display_frame(df: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The cell texts of ``df`` as a table shows them, untruncated: labels, CURIEs, 3 significant digits.

    A label column beside an id column (``target`` and ``target_label``) becomes one column,
    named as the id (without an ``_iri`` suffix), at the place of the first of the two; it
    shows the label and, where a row has none, the id as a CURIE. Missing values are empty.

    >>> frame = pd.DataFrame({"target": ["https://w3id.org/igkg/id/marker/egfr", "http://identifiers.org/ncbigene/3845"],
    ...                       "target_label": ["EGFR mutation status", None], "q": [0.000123, 0.41]})
    >>> display_frame(frame).to_dict("list")
    {'target': ['EGFR mutation status', 'ncbigene:3845'], 'q': ['1.23e-04', '0.410']}
    """
    return _prepare(df, labels).frame


def rich_table(
    df: pd.DataFrame,
    *,
    width: int = DEFAULT_WIDTH,
    labels: Mapping[str, str] | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    title: str | None = None,
) -> Table:
    """``df`` as a ``rich`` table exactly as wide as it needs, never wider than ``width``.

    ``max_rows=None`` shows every row. Columns are kept from the left while they fit at
    their narrowest (numbers whole, with up to 8 characters of header; text at least 12
    characters); if they do not all fit whole and there are 3 rows or more, columns with the
    same value in every row are said once in the caption instead. The spare width goes to
    the columns that want it, and text still too long
    is cut with an ellipsis: in the middle for identifiers (names without spaces, whose ends
    both tell them apart), at the end for prose. The caption says how many rows and which
    columns are not shown.

    :raises ValueError: if ``width`` is below 20 or column names repeat.

    >>> table = rich_table(pd.DataFrame({"gene": ["EGFR"], "q": [0.000123]}), width=40)
    >>> len(table.columns), table.row_count
    (2, 1)
    """
    if width < 20:
        raise ValueError(f"a table needs a width of at least 20 columns, not {width}")
    prepared = _prepare(df, labels)
    frame = prepared.frame
    total_rows = len(frame)
    if max_rows is not None and total_rows > max_rows:
        frame = frame.iloc[: max(max_rows, 0)]
    widths, kept = _fit(frame, prepared.numeric, width)
    constant: dict[str, str] = {}
    squeezed = len(kept) < len(frame.columns) or any(widths[c] < _natural(frame, c) for c in kept)
    if squeezed and total_rows >= _MIN_ROWS_FOR_CONSTANT:
        # Not everything fits whole: columns with one value in every row are said once, below.
        constant = {c: prepared.frame[c].iloc[0] for c in frame.columns if prepared.frame[c].nunique() == 1}
        widths, kept = _fit(frame.drop(columns=list(constant)), prepared.numeric, width)
    dropped = [c for c in frame.columns if c not in kept and c not in constant] + prepared.empty_columns

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=False,
        title=title,
        caption=_caption(total_rows, len(frame), constant, dropped, width),
        caption_justify="left",
        header_style="bold",
        caption_style="dim",
        expand=False,
    )
    for column in kept:
        table.add_column(
            Text(_truncate(column, widths[column])),
            justify="right" if prepared.numeric[column] else "left",
            no_wrap=True,
            overflow="ellipsis",
            width=widths[column],
        )
    for row in frame[kept].itertuples(index=False, name=None):
        table.add_row(*(Text(_truncate(cell, widths[c])) for c, cell in zip(kept, row, strict=True)))
    return table


def _fit(frame: pd.DataFrame, numeric: Mapping[str, bool], width: int) -> tuple[dict[str, int], list[str]]:
    """Column widths that fill at most ``width`` with the gaps, and the columns kept (from the left)."""
    natural: dict[str, int] = {}
    narrowest: dict[str, int] = {}
    for column in frame.columns:
        cells = max((len(v) for v in frame[column]), default=0)
        natural[column] = _natural(frame, column)
        if numeric[column]:
            narrowest[column] = min(max(cells, min(len(column), _MIN_NUMERIC_HEADER), 1), natural[column])
        else:
            narrowest[column] = min(natural[column], _MIN_TEXT)
    kept: list[str] = []
    used = 0
    for column in frame.columns:
        need = narrowest[column] + (_GAP if kept else 0)
        if used + need > width:
            break
        kept.append(column)
        used += need
    if not kept and len(frame.columns):
        first = frame.columns[0]
        return {first: width}, [first]
    widths = {c: narrowest[c] for c in kept}
    spare = width - used
    # Share the spare width out evenly (in column order for the remainder) until each
    # column has its natural width or none is left.
    while spare > 0:
        wanting = [c for c in kept if widths[c] < natural[c]]
        if not wanting:
            break
        share = max(spare // len(wanting), 1)
        for column in wanting:
            give = min(share, natural[column] - widths[column], spare)
            widths[column] += give
            spare -= give
            if spare == 0:
                break
    return widths, kept


def _natural(frame: pd.DataFrame, column: str) -> int:
    """The width ``column`` would like: its header or widest cell, at most ``_MAX_CELL``."""
    cells = max((len(v) for v in frame[column]), default=0)
    return max(1, min(max(cells, len(column)), _MAX_CELL))


def _truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis: prose at the end; an identifier
    (no spaces) at its start when narrow (its end tells it apart), else in its first quarter.

    >>> _truncate("non-small cell lung carcinoma", 15), _truncate("original_shape_Elongation", 11)
    ('non-small cell…', '…Elongation')
    >>> _truncate("igkg:id/association/301f9f7ee3c68bfc/original_shape_Sphericity", 30)
    'igkg:id…ginal_shape_Sphericity'
    """
    if len(text) <= width:
        return text
    if width <= 1:
        return _ELLIPSIS[:width]
    if " " in text.strip() or width < 6:
        return text[: width - 1].rstrip() + _ELLIPSIS
    head = 0 if width < 16 else (width - 1) // 4
    return text[:head] + _ELLIPSIS + text[len(text) - (width - 1 - head) :]


def format_table(
    df: pd.DataFrame,
    *,
    width: int = DEFAULT_WIDTH,
    labels: Mapping[str, str] | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    title: str | None = None,
) -> str:
    """``df`` as plain text (no final newline) no line of which is wider than ``width``; the same input gives the same text.

    See the module docstring for how cells are written and what is left out.

    >>> frame = pd.DataFrame({"method": ["http://purl.obolibrary.org/obo/STATO_0000076"], "p": [0.00374216], "n": [117]})
    >>> print(format_table(frame))
    method                 p     n
    ──────────────────────────────
    STATO:0000076   3.74e-03   117
    """
    console = _plain_console(width)
    console.print(rich_table(df, width=width, labels=labels, max_rows=max_rows, title=title))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.splitlines())


def print_table(
    df: pd.DataFrame,
    *,
    console: Console | None = None,
    labels: Mapping[str, str] | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    title: str | None = None,
) -> None:
    """Print ``df`` on ``console`` (default: standard output), fitted to the console's width.

    Colour and styles only when the console is a terminal (``rich``'s own detection).

    >>> print_table(pd.DataFrame({"gene": ["EGFR"], "q": [0.000123]}), console=Console(width=40, color_system=None))
    gene          q
    ───────────────
    EGFR   1.23e-04
    """
    console = console or Console(highlight=False, emoji=False, markup=False, soft_wrap=False)
    console.print(rich_table(df, width=console.width, labels=labels, max_rows=max_rows, title=title))


def _plain_console(width: int) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        no_color=True,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
        record=True,
        _environ={},
    )


def _caption(
    total_rows: int, shown_rows: int, constant: Mapping[str, str], dropped: list[str], width: int
) -> str | None:
    parts = []
    if shown_rows < total_rows:
        parts.append(f"{shown_rows} of {total_rows} rows shown")
    elif total_rows == 0:
        parts.append("no rows")
    if constant:
        parts.append(
            "in every row " + ", ".join(f"{c} = {_truncate(v, _MAX_CELL)}" for c, v in constant.items())
        )
    if dropped:
        names = ", ".join(dropped)
        limit = max(2 * width - 40, 40)
        if len(names) > limit:
            names = names[: limit - 1] + _ELLIPSIS
        parts.append(f"{len(dropped)} column{'s' if len(dropped) != 1 else ''} not shown: {names}")
    return "; ".join(parts) or None


def _is_p_like(column: str) -> bool:
    tokens = re.split(r"[^a-z0-9]+", _CAMEL.sub("_", column).lower())
    return any(t in _P_TOKENS for t in tokens) or column.lower() in {"p_value", "q_value"}


def _label_column(column: str, columns: list[str], taken: set[str]) -> str | None:
    """The column holding labels for the ids in ``column``, if there is one."""
    candidates = [f"{column}Label", f"{column}_label", f"{column}_name"]
    if column.endswith("_iri"):
        base = column[: -len("_iri")]
        candidates += [f"{base}Label", f"{base}_label", f"{base}_name", base]
    for candidate in candidates:
        if candidate in columns and candidate != column and candidate not in taken:
            return candidate
    return None


def _cell(value: Any, *, p_like: bool, labels: Mapping[str, str] | None) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (numbers.Number, np.bool_)):
        return format_number(value, scientific_below=0.01 if p_like else 1e-3)  # type: ignore[arg-type]
    text = str(value)
    if labels and text in labels:
        return str(labels[text])
    return shorten_iris(text, labels)


def _prepare(df: pd.DataFrame, labels: Mapping[str, str] | None) -> _Prepared:
    columns = [str(c) for c in df.columns]
    if len(set(columns)) != len(columns):
        raise ValueError(
            f"a table's column names must be unique; repeated: {sorted({c for c in columns if columns.count(c) > 1})}"
        )
    frame = df.copy()
    frame.columns = columns
    texts: dict[str, list[str]] = {}
    numeric: dict[str, bool] = {}
    for column in columns:
        series = frame[column]
        p_like = _is_p_like(column)
        texts[column] = [_cell(v, p_like=p_like, labels=labels) for v in series.tolist()]
        numeric[column] = bool(
            pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        )

    # Merge each id column with its label column, at the place of the first of the two.
    order: list[str] = []
    taken: set[str] = set()
    merged: dict[str, str] = {}
    for column in columns:
        if column in taken:
            continue
        label_column = _label_column(column, columns, taken)
        if label_column is None or numeric[column] or numeric[label_column]:
            continue
        name = column.removesuffix("_iri")
        if name != column and name in columns and name != label_column:
            name = column
        texts[name] = [lab or ident for lab, ident in zip(texts[label_column], texts[column], strict=True)]
        numeric[name] = False
        taken.update({column, label_column})
        merged[column] = merged[label_column] = name
    for column in columns:
        name = merged.get(column, column)
        if name not in order:
            order.append(name)

    empty = [c for c in order if len(frame) and not any(texts[c])]
    shown = [c for c in order if c not in empty]
    result = pd.DataFrame({c: texts[c] for c in shown}, columns=shown, dtype=object)
    return _Prepared(result, {c: numeric[c] for c in shown}, empty)
