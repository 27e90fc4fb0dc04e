"""``igkg query``: a SPARQL query from a file or standard input, or a named query."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import fail, open_graph, out, print_frame

__all__ = ["query"]


def query(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="A .rq file, or '-' for standard input.")] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="table (the default on a terminal: fitted to its width, CURIEs, labels), csv (the default otherwise), tsv or json; csv, tsv and json are complete."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Run the named query NAME (see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Named-query parameter KEY=VALUE (repeatable).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the named queries, one per line, name first.")] = False,
) -> None:
    """Run a SPARQL query from a file or standard input ('-'), or a named query (--name, --list)."""
    import pandas as pd

    from kg.core.errors import IgkgError
    from kg.query.named import load_queries, run_named_query

    try:
        if list_:
            for named in load_queries().values():
                args = " ".join(f"{p.name}={p.default if p.default is not None else ''}" for p in named.params)
                sys.stdout.write(f"{named.name}\t{named.description}\t{args}\n")
            return
        params: dict[str, str] = {}
        for item in param or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise IgkgError(f"--param takes KEY=VALUE, got {item!r}")
            params[key.strip()] = value
        if name is None and params:
            raise IgkgError("--param needs --name")
        if name is None and source is None:
            raise IgkgError("give a .rq file, '-' or --name NAME (see --list)")
        if name is not None and source is not None:
            raise IgkgError("give either a .rq file or --name, not both")
        text = None if name is not None else sys.stdin.read() if source == "-" else Path(str(source)).read_text(encoding="utf-8")
        with open_graph(ctx, read_only=True) as kg:
            result = run_named_query(kg, name, params) if name is not None else kg.query(str(text))
        if isinstance(result, bool):
            sys.stdout.write(("true" if result else "false") + "\n")
        elif isinstance(result, pd.DataFrame):
            print_frame(result, fmt or ("table" if out.is_terminal else "csv"), max_rows=50)
        else:
            sys.stdout.write(result.serialize(format="turtle"))
    except (IgkgError, OSError) as exc:
        fail(exc)
