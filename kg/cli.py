"""The ``igkg`` command line: load, query, stats, export, drop (and the commands other modules add).

Every command takes the store from ``--store`` or ``IGKG_STORE`` (default ``./igkg-data``).
Errors print one clear line and exit non-zero; long loads show a progress bar.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kg.errors import IgkgError, StoreError
from kg.store import KnowledgeGraph, store_location

__all__ = ["app", "main", "open_graph"]

app = typer.Typer(
    name="igkg",
    help="Imaging-genomics knowledge graph: load sources, ask SPARQL, serve it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

StoreOption = Annotated[
    Optional[str],
    typer.Option("--store", envvar="IGKG_STORE", help="Store folder (default ./igkg-data), or a sparql+http(s):// endpoint."),
]


class _State:
    store: str | None = None


@app.callback()
def _main(
    store: StoreOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    """igkg: an imaging-genomics knowledge graph and query engine."""
    _State.store = store
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def open_graph(*, read_only: bool = False) -> KnowledgeGraph:
    """The knowledge graph the global ``--store`` option names (used by every command)."""
    location = store_location(_State.store)
    opener = _remote_opener(location)
    if opener is not None:
        return opener(location)
    if read_only and Path(location).exists():
        # Open for writing when nobody else holds the store, so that the remains of an
        # interrupted load are cleared first; beside a running server, read only.
        try:
            return KnowledgeGraph(location)
        except StoreError:
            return KnowledgeGraph(location, read_only=True)
    return KnowledgeGraph(location)


def _remote_opener(location: str):  # noqa: ANN202
    if location.startswith(("sparql+http://", "sparql+https://")):
        from kg.remote import RemoteKnowledgeGraph

        return RemoteKnowledgeGraph
    return None


def _fail(exc: BaseException) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def _loader_kinds_help() -> str:
    from loaders import LOADERS

    return "\n\n".join(f"{kind}: {loader.description}" for kind, loader in LOADERS.items())


@app.command(help="Load sources into the store, each into its own named graph.\n\nKinds:\n\n" + _loader_kinds_help())
def load(
    sources: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    kind: Annotated[Optional[str], typer.Option("--kind", "-k", help="The source kind (see above); inferred from the file name if unambiguous.")] = None,
    params: Annotated[Optional[Path], typer.Option("--params", help="pyradiomics parameter file (YAML/JSON), for --kind pyradiomics.")] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="The column holding subject ids in a table.")] = None,
    species: Annotated[Optional[str], typer.Option("--species", help="Species filter (e.g. 'Homo sapiens') for pathway/gene files.")] = None,
    cohort: Annotated[Optional[str], typer.Option("--cohort", help="Cohort the subjects of this source belong to.")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-o", help="Loader option KEY=VALUE (repeatable).")] = None,
    report_file: Annotated[Optional[Path], typer.Option("--report", help="Write the load reports as JSON here.")] = None,
) -> None:
    options: dict[str, object] = {"params": params, "id_column": id_column, "species": species, "cohort": cohort}
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep:
            _fail(IgkgError(f"--option takes KEY=VALUE, got {item!r}"))
        options[key.strip().replace("-", "_")] = value
    reports = []
    try:
        with open_graph() as kg:
            for source in sources:
                size = source.stat().st_size if source.is_file() else None
                with Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=console,
                    transient=True,
                    disable=not console.is_terminal,
                ) as bar:
                    task = bar.add_task(source.name, total=size)
                    report = kg.load(source, kind=kind, progress=lambda n: bar.advance(task, n), **options)
                if report.kind in ("clinical", "radiomics-csv", "maf") and not report.skipped:
                    __import__("kg.conflicts", fromlist=["x"]).note_conflicts(kg, report)
                reports.append(report)
                out.print(report.summary(), highlight=False, soft_wrap=True)
                for rejection in report.rejected[:10]:
                    out.print(f"  rejected {rejection}", highlight=False, soft_wrap=True)
                if len(report.rejected) > 10:
                    out.print(f"  ... and {len(report.rejected) - 10} more rejections (see --report)")
                for note in report.notes:
                    out.print(f"  note: {note}", highlight=False, soft_wrap=True)
    except (IgkgError, OSError) as exc:
        _fail(exc)
    if report_file is not None:
        report_file.write_text(json.dumps([r.to_dict() for r in reports], indent=2))


def print_frame(frame: pd.DataFrame, fmt: str) -> None:
    """Print a DataFrame as a table, CSV, TSV or JSON records on standard output."""
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


@app.command(help="Run a SPARQL query from a file or standard input ('-'), or a named query (--name, --list).")
def query(
    source: Annotated[Optional[str], typer.Argument(help="A .rq file, or '-' for standard input.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv or json.")] = "table",
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Run the named query NAME (see --list).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Named-query parameter KEY=VALUE (repeatable).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the named queries, one per line, name first.")] = False,
) -> None:
    from kg.named_queries import load_queries, run_named_query

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
        with open_graph(read_only=True) as kg:
            result = run_named_query(kg, name, params) if name is not None else kg.query(str(text))
        if isinstance(result, bool):
            sys.stdout.write(("true" if result else "false") + "\n")
        elif isinstance(result, pd.DataFrame):
            print_frame(result, fmt)
        else:
            sys.stdout.write(result.serialize(format="turtle"))
    except (IgkgError, OSError) as exc:
        _fail(exc)


@app.command(help="Show triples per named graph (with its source) and instances per class.")
def stats(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    try:
        with open_graph(read_only=True) as kg:
            result = kg.stats()
        if fmt == "json":
            sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
            return
        print_frame(result.graphs, "table")
        print_frame(result.classes.head(40), "table")
        out.print(f"total triples: {result.triples}")
    except (IgkgError, OSError) as exc:
        _fail(exc)


@app.command(help="Write the store (or one graph) as N-Quads, TriG, Turtle, N-Triples or RDF/XML.")
def export(
    output: Annotated[Path, typer.Argument(help="The file to write ('.gz' compresses).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="nquads, trig, turtle, ntriples or rdfxml.")] = "nquads",
    graph: Annotated[Optional[str], typer.Option("--graph", help="Only this named graph.")] = None,
) -> None:
    try:
        with open_graph(read_only=True) as kg:
            kg.export(output, format=fmt, graph=graph)
    except (IgkgError, OSError) as exc:
        _fail(exc)


@app.command(help="Remove a loaded source (by graph IRI, source key or file name).")
def drop(graph: Annotated[str, typer.Argument(help="Graph IRI, source key (kind/file) or file name.")]) -> None:
    try:
        with open_graph() as kg:
            removed = kg.drop(graph)
        out.print(f"dropped {graph}: {removed} triples")
    except (IgkgError, OSError) as exc:
        _fail(exc)


from kg.serve import serve as _serve  # noqa: E402 - the serve command lives in its own module
app.command(name="serve", help="Serve the store over HTTP: SPARQL 1.1 at /sparql, query page at /, /entity, /api/queries.")(_serve)
from kg.ibsi_report import ibsi_report_command as _ibsi_report  # noqa: E402 - lives in its own module
app.command(name="ibsi-report", help="IBSI conformance: features of the IBSI digital phantom vs the manual's reference values.")(_ibsi_report)
app.command(name="associate", help="Test every imaging feature against a marker, every gene or every pathway; store results with q <= --q-max.")(__import__("kg.associate_cli", fromlist=["x"]).associate)
app.command(name="reason", help="Classify the ontology (HermiT via owlready2) and materialise inferences into the graph inferences/owlready2.")(__import__("kg.reasoning", fromlist=["x"]).reason_command)


def main() -> None:
    """Entry point of the ``igkg`` console script."""
    app()


if __name__ == "__main__":
    main()
