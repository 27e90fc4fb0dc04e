"""The ``igkg`` Typer app: the global options and the registry of commands.

Each command group lives in its own module (``store``, ``query``, ``serve``, ``associate``,
``reason``, ``ibsi``) and imports the library inside the command; the global ``--store``
reaches them through ``ctx.obj`` (a ``CliState``). Nothing outside ``kg.cli`` imports it.
Every command takes the store from ``--store`` or ``IGKG_STORE`` (default ``./igkg-data``).
Errors print one clear line and exit non-zero; long loads show a progress bar.
"""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from kg.cli import associate, gwas, ibsi, matrix, plot, query, radiogenomics, reason, serve, store
from kg.cli.common import CliState

__all__ = ["app", "main"]

app = typer.Typer(
    name="igkg",
    help="Imaging-genomics knowledge graph: load sources, ask SPARQL, serve it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    ctx: typer.Context,
    store_: Annotated[
        Optional[str],
        typer.Option("--store", envvar="IGKG_STORE", help="Store folder (default ./igkg-data), or a sparql+http(s):// endpoint."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    """igkg: an imaging-genomics knowledge graph and query engine."""
    ctx.obj = CliState(store=store_)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


app.command(name="load", cls=store.LoadCommand, short_help=store.LOAD_SUMMARY)(store.load)
app.command(name="query")(query.query)
app.command(name="stats")(store.stats)
app.command(name="export")(store.export)
app.command(name="drop")(store.drop)
app.command(name="matrix", help="Write a cohort matrix (subjects x variables, values as loaded) from the columnar data plane to CSV or Parquet.")(matrix.matrix)
app.command(name="serve", help="Serve the store over HTTP: SPARQL 1.1 at /sparql, query page at /, /entity, /api/queries.")(serve.serve)
app.command(name="ibsi-report", help="IBSI conformance: features of the IBSI digital phantom vs the manual's reference values.")(ibsi.ibsi_report)
app.command(name="associate", help="Test every imaging feature against a marker, every gene or every pathway; store results with q <= --q-max.")(associate.associate)
app.command(name="gwas", help="Imaging GWAS: every imaging feature against every variant (OLS feature ~ dosage + covariates); hits with p <= --p-max into the graph.")(gwas.gwas)
app.command(name="plot", help="Plot a run's volcano or heatmap, or a feature by marker status (box), to PNG or SVG.")(plot.plot)
app.command(name="harmonise", help="ComBat-harmonise the radiomic features across a batch variable (a new version of the matrix, with its run).")(radiogenomics.harmonise)
app.command(name="icc", help="Per-feature ICC(A,1) or ICC(C,1) with 95% CI over a replicate column; stored on the features for the cohort.")(radiogenomics.icc)
app.command(name="predict", help="Cross-validated prediction of a marker from imaging features: AUC with 95% CI, permutation p-value.")(radiogenomics.predict)
app.command(name="reason", help="Classify the ontology (HermiT via owlready2) and materialise inferences into the graph inferences/owlready2.")(reason.reason)


def main() -> None:
    """Entry point of the ``igkg`` console script (a bare ``--harmonised`` means ``--harmonised latest``)."""
    import sys

    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--harmonised" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            args.insert(i + 1, "latest")
    app(args)
