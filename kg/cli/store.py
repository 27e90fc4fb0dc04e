"""``igkg load``, ``stats``, ``export`` and ``drop``: putting sources into the store and taking them out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kg.cli.common import console, fail, open_graph, out, print_frame

__all__ = ["LOAD_SUMMARY", "LoadCommand", "drop", "export", "load", "load_help", "stats"]

LOAD_SUMMARY = "Load sources into the store, each into its own named graph."
"""The first line of ``igkg load --help`` (and its line in ``igkg --help``)."""


class LoadCommand(typer.core.TyperCommand):
    """``igkg load``: its help (every kind and its options) is built only when shown, so a load imports one loader."""

    @property  # type: ignore[override]
    def help(self) -> str:
        return load_help()

    @help.setter
    def help(self, value: str | None) -> None:  # set by click's constructor; the property answers instead
        pass


def load_help() -> str:
    """The help of ``igkg load``, with every loader kind and its options."""
    from loaders import LOADERS

    kinds = "\n\n".join(
        f"{kind}: {loader.description}" + (f" [options: {', '.join(loader.options)}]" if loader.options else "")
        for kind, loader in LOADERS.items()
    )
    return LOAD_SUMMARY + "\n\nKinds:\n\n" + kinds


def load(
    ctx: typer.Context,
    sources: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    kind: Annotated[Optional[str], typer.Option("--kind", "-k", help="The source kind (see above); inferred from the file name if unambiguous.")] = None,
    params: Annotated[Optional[Path], typer.Option("--params", help="pyradiomics parameter file (YAML/JSON), for --kind pyradiomics.")] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="The column holding subject ids in a table.")] = None,
    replicate_column: Annotated[Optional[str], typer.Option("--replicate-column", help="radiomics-csv: the column naming the replicate of a row (scan, delineation, reader); several rows per subject.")] = None,
    languages: Annotated[Optional[str], typer.Option("--languages", help="umls: keep only these languages (comma-separated LAT codes, e.g. ENG,FRE); default all.")] = None,
    layout: Annotated[Optional[str], typer.Option("--layout", help="Override the detected table layout (expression: auto, genes-by-samples or samples-by-genes; radiomics-csv: wide or long).")] = None,
    gene_ranges: Annotated[Optional[Path], typer.Option("--gene-ranges", help="plink/pgen/bgen/vcf: gene ranges (glist: chrom start end symbol; or GTF/GFF3) linking variants to genes (igkg:nearGene), on the genotypes' build.")] = None,
    window: Annotated[Optional[int], typer.Option("--window", help="plink/pgen/bgen/vcf with --gene-ranges: also link variants within this many bp of a gene (default 0: inside it).", min=0)] = None,
    species: Annotated[Optional[str], typer.Option("--species", help="Species filter (e.g. 'Homo sapiens') for pathway/gene files.")] = None,
    cohort: Annotated[Optional[str], typer.Option("--cohort", help="Cohort the subjects of this source belong to.")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-o", help="Loader option KEY=VALUE (repeatable; the kinds above list theirs).")] = None,
    report_file: Annotated[Optional[Path], typer.Option("--report", help="Write the load reports as JSON here.")] = None,
    values: Annotated[str, typer.Option("--values", help="Where measured values go: rdf (triples), columnar (Parquet matrices; the graph keeps the entities) or both.")] = "both",
    replace: Annotated[bool, typer.Option("--replace", help="Replace the loaded source of this kind and file name even if it came from another folder, or if the new version has less than half its records.")] = False,
    source_name: Annotated[Optional[str], typer.Option("--source-name", help="Name the source (instead of the file name): a later load with the same name replaces it. One source per load.")] = None,
) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from kg.analysis.conflicts import note_conflicts
    from kg.core.errors import IgkgError

    options: dict[str, object] = {"params": params, "id_column": id_column, "species": species, "cohort": cohort,
                                  "replicate_column": replicate_column, "languages": languages, "layout": layout,
                                  "gene_ranges": gene_ranges, "window": None if window is None else str(window)}  # as -o window=N gives it
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(IgkgError(f"--option takes KEY=VALUE, got {item!r}"))
        options[key.strip().replace("-", "_")] = value
    if source_name is not None and len(sources) > 1:
        fail(IgkgError(f"--source-name names one source; {len(sources)} files were given"))
    reports = []
    try:
        with open_graph(ctx) as kg:
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
                    report = kg.load(
                        source, kind=kind, progress=lambda n: bar.advance(task, n), values=values,
                        replace=replace, source_name=source_name, **options,
                    )
                if report.kind in ("clinical", "radiomics-csv", "maf") and not report.skipped:
                    note_conflicts(kg, report)
                reports.append(report)
                out.print(report.summary(), highlight=False, soft_wrap=True, markup=False)
                for rejection in report.rejected[:10]:
                    out.print(f"  rejected {rejection}", highlight=False, soft_wrap=True, markup=False)
                if len(report.rejected) > 10:
                    out.print(f"  ... and {len(report.rejected) - 10} more rejections (see --report)")
                for note in report.notes:
                    out.print(f"  note: {note}", highlight=False, soft_wrap=True, markup=False)
    except (IgkgError, OSError) as exc:
        fail(exc)
    if report_file is not None:
        report_file.write_text(json.dumps([r.to_dict() for r in reports], indent=2))


def stats(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Show triples per named graph (with its source) and instances per class."""
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx, read_only=True) as kg:
            result = kg.stats()
        if fmt == "json":
            sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
            return
        print_frame(result.graphs, "table")
        print_frame(result.classes.head(40), "table")
        out.print(f"total triples: {result.triples}")
    except (IgkgError, OSError) as exc:
        fail(exc)


def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="The file to write ('.gz' compresses).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="nquads, trig, turtle, ntriples or rdfxml.")] = "nquads",
    graph: Annotated[Optional[str], typer.Option("--graph", help="Only this named graph.")] = None,
) -> None:
    """Write the store (or one graph) as N-Quads, TriG, Turtle, N-Triples or RDF/XML."""
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx, read_only=True) as kg:
            kg.export(output, format=fmt, graph=graph)
    except (IgkgError, OSError) as exc:
        fail(exc)


def drop(
    ctx: typer.Context,
    graph: Annotated[str, typer.Argument(help="Graph IRI, source key (kind/file) or file name.")],
) -> None:
    """Remove a loaded source (by graph IRI, source key or file name)."""
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx) as kg:
            removed = kg.drop(graph)
        out.print(f"dropped {graph}: {removed} triples")
    except (IgkgError, OSError) as exc:
        fail(exc)
