"""What every ``igkg`` command shares: the consoles, the global options in ``ctx.obj``, errors, tables."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    import pandas as pd

    from kg.store import KnowledgeGraph

__all__ = ["CliState", "console", "fail", "open_graph", "out", "print_frame"]

console = Console(stderr=True)
"""Standard error: progress, notes and errors."""
out = Console()
"""Standard output: results and summaries."""


@dataclass(frozen=True)
class CliState:
    """The global options, set by the app's callback as ``ctx.obj``."""

    store: str | None = None


def fail(exc: BaseException) -> NoReturn:
    """Print ``error: <exc>`` on one line and exit with status 1."""
    console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def store_option(ctx: typer.Context) -> str | None:
    """The global ``--store`` of this invocation (``None``: ``IGKG_STORE`` or the default)."""
    state = ctx.find_root().obj
    return state.store if isinstance(state, CliState) else None


def open_graph(ctx: typer.Context, *, read_only: bool = False) -> KnowledgeGraph:
    """The knowledge graph the global ``--store`` option names (see ``kg.store.open_graph``)."""
    from kg.store import open_graph as open_store

    return open_store(store_option(ctx), read_only=read_only)


def print_frame(frame: pd.DataFrame, fmt: str, *, max_rows: int | None = 25) -> None:
    """Print a DataFrame on standard output: CSV, TSV or JSON records (complete), or a table
    fitted to the terminal's width (``kg.views.tables``: CURIEs, labels, 3 significant digits,
    at most ``max_rows`` rows with a note of what is not shown)."""
    from kg.core.errors import IgkgError

    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "tsv":
        sys.stdout.write(frame.to_csv(index=False, sep="\t"))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2, force_ascii=False) + "\n")
    elif fmt == "table":
        from kg.views.tables import print_table

        print_table(frame, console=out, max_rows=max_rows)
        out.print(f"{len(frame)} row(s)", highlight=False)
    else:
        raise IgkgError(f"unknown --format {fmt!r}; one of table, csv, tsv, json")
