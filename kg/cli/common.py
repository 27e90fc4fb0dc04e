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


def print_frame(frame: pd.DataFrame, fmt: str) -> None:
    """Print a DataFrame as a table, CSV, TSV or JSON records on standard output."""
    import pandas as pd
    from rich.table import Table

    from kg.core.errors import IgkgError

    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "tsv":
        sys.stdout.write(frame.to_csv(index=False, sep="\t"))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", indent=2, force_ascii=False) + "\n")
    elif fmt == "table":
        table = Table(show_lines=False)
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*("" if pd.isna(v) else str(v) for v in row))
        out.print(table)
        out.print(f"{len(frame)} row(s)")
    else:
        raise IgkgError(f"unknown --format {fmt!r}; one of table, csv, tsv, json")
