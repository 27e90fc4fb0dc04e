"""``igkg associate``: test every imaging feature against a marker, every gene or every pathway.

Reads the features and targets from the store, writes the results as CSV
(``feature,target,method,statistic,effect_size,p,q,n``; model-based methods add
:data:`MODEL_COLUMNS`) and stores every result with
``q <= --q-max`` as a ``RadiogenomicAssociation`` of a new analysis run (unless
``--no-graph``). Marker conflicts between sources are printed, never resolved silently.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import console, fail, open_graph, print_frame

__all__ = ["CSV_COLUMNS", "MODEL_COLUMNS", "associate"]

CSV_COLUMNS = ["feature", "target", "method", "statistic", "effect_size", "p", "q", "n"]
"""The columns of ``--output``, in order."""

MODEL_COLUMNS = ["beta", "se", "df", "n_positive", "converged", "note", "model", "test", "correction"]
"""Columns ``--output`` adds after :data:`CSV_COLUMNS` for ``--method linear|logistic`` or ``--covariates``
(those the model has): ``statistic`` is t, z or the partial r; ``effect_size`` beta, odds ratio or r;
a pair that did not converge has ``converged`` false, a ``note`` and no p-value."""


def associate(
    ctx: typer.Context,
    marker: Annotated[list[str] | None, typer.Option("--marker", help="A marker by column name or gene ('EGFR mutation status' or 'EGFR'); repeatable.")] = None,
    genes: Annotated[bool, typer.Option("--genes", help="Test against every gene of the loaded expression profiles.")] = False,
    pathways: Annotated[str | None, typer.Option("--pathways", help="Gene-set scores from a GMT file, or 'graph' for the gene sets in the store.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="spearman, pearson, mannwhitney, pointbiserial, kruskal, linear (feature ~ target + covariates) or logistic (marker ~ feature + covariates) (default: mannwhitney for markers, spearman otherwise).")] = None,
    min_n: Annotated[int, typer.Option("--min-n", help="Least number of subjects with both values for a pair to be tested.")] = 10,
    q_max: Annotated[float, typer.Option("--q-max", help="Results with BH q at most this go into the graph.")] = 0.05,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the results as CSV here ('-' for standard output).")] = None,
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only subjects of this cohort (label or IRI).")] = None,
    traits: Annotated[bool, typer.Option("--traits", help="Use the semantic imaging traits (VASARI) as features instead of radiomic features.")] = False,
    marker_source: Annotated[str | None, typer.Option("--marker-source", help="Take marker statuses from this source only (source key or file name).")] = None,
    significant_only: Annotated[bool, typer.Option("--significant-only", help="Compute and write only the results with q <= --q-max (fast on large analyses).")] = False,
    no_graph: Annotated[bool, typer.Option("--no-graph", help="Do not store the run and its associations.")] = False,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Run the tiles on this dask.distributed scheduler (tcp://HOST:PORT; default IGKG_DASK_SCHEDULER, else here).")] = None,
    covariates: Annotated[str | None, typer.Option("--covariates", help="Comma-separated subject variables (clinical columns as loaded) to adjust for: --method linear, logistic or spearman (partial).")] = None,
    min_icc: Annotated[float | None, typer.Option("--min-icc", help="Keep only features with ICC >= this in the latest 'igkg icc' run for the cohort.")] = None,
    harmonised: Annotated[str | None, typer.Option("--harmonised", help="Use the harmonised features: 'latest' (also a bare --harmonised) or a harmonisation run id.")] = None,
) -> None:
    """Run one association analysis (see the module docstring)."""
    from kg.analysis.associations import run_analysis, write_run
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx, read_only=no_graph) as kg:
            run = run_analysis(
                kg,
                markers=marker or (),
                genes=genes,
                pathways=pathways,
                method=method,
                min_n=min_n,
                q_max=q_max,
                cohort=cohort,
                traits=traits,
                marker_source=marker_source,
                only_significant=significant_only,
                scheduler=scheduler,
                covariates=[c for c in (covariates or "").split(",") if c.strip()],
                min_icc=min_icc,
                harmonised=harmonised,
            )
            report = None if no_graph else write_run(kg, run)
    except (IgkgError, OSError) as exc:
        fail(exc)
    results = run.results
    if output is not None:
        columns = CSV_COLUMNS
        if "model" in results.columns:
            results = results.assign(correction=str(run.parameters.get("correction", "")))
            columns = CSV_COLUMNS + [c for c in MODEL_COLUMNS if c in results.columns]
        text = results[columns].to_csv(index=False)
        if str(output) == "-":
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
    tests = results.attrs.get("tests", len(results))
    console.print(
        f"run {run.run_id}: {run.parameters['method']} over {results.attrs.get('subjects', '?')} subjects, "
        f"{tests} tests, {len(run.significant)} with q <= {q_max}",
        highlight=False,
    )
    for note in run.notes:
        console.print(f"  note: {note}", highlight=False, soft_wrap=True)
    if run.conflicts is not None and not run.conflicts.empty:
        console.print(f"[bold yellow]conflicts:[/] {run.conflicts['subject'].nunique()} subject(s) with disagreeing marker statuses")
        for row in run.conflicts.itertuples(index=False):
            console.print(f"  {row.subject_id}  {row.marker_label}: {row.status!r} in {row.graph}", highlight=False, soft_wrap=True)
    if report is not None:
        state = "unchanged (same run already stored)" if getattr(report, "skipped", False) else f"{report.triples} triples"
        console.print(f"stored {report.graph}: {state}", highlight=False)
        for note in getattr(report, "notes", []):
            console.print(f"  note: {note}", highlight=False)
    if output is None and len(results):
        print_frame(run.significant[CSV_COLUMNS].head(20), "table")
