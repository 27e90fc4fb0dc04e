"""``igkg harmonise``, ``igkg icc`` and ``igkg predict``: radiogenomic statistics with provenance.

Each command runs one analysis of :mod:`kg.analysis.radiogenomics` on the store's matrices,
stores it as a run (``prov:Activity``; other settings, another run) and writes its table
(``--output``): the harmonised matrix (CSV: subject, then one column per feature as loaded),
the ICCs (``feature,icc,ci_low,ci_high,n``) or the prediction (JSON).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import console, fail, open_graph

__all__ = ["harmonise", "icc", "predict"]


def _names(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def harmonise(
    ctx: typer.Context,
    batch: Annotated[str, typer.Option("--batch", help="Subject variable holding the batch (site, scanner), e.g. 'Patient affiliation'.")],
    covariates: Annotated[str | None, typer.Option("--covariates", help="Comma-separated biological covariates ComBat keeps.")] = None,
    nonparametric: Annotated[bool, typer.Option("--nonparametric", help="Non-parametric empirical Bayes priors.")] = False,
    no_eb: Annotated[bool, typer.Option("--no-eb", help="No empirical Bayes (per-batch estimates as they are).")] = False,
    mean_only: Annotated[bool, typer.Option("--mean-only", help="Adjust the batch means only, not the variances.")] = False,
    ref_batch: Annotated[str | None, typer.Option("--ref-batch", help="A batch left unchanged; the others are mapped onto it.")] = None,
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only subjects of this cohort (label or IRI).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the harmonised matrix as CSV (subject, then one column per feature).")] = None,
) -> None:
    """ComBat harmonisation (see the module docstring)."""
    from kg.analysis.radiogenomics import harmonise as run_harmonise
    from kg.analysis.radiogenomics import write_harmonisation
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx) as kg:
            run = run_harmonise(kg, batch=batch, covariates=_names(covariates), parametric=not nonparametric, eb=not no_eb,
                                mean_only=mean_only, ref_batch=ref_batch, cohort=cohort)
            report = write_harmonisation(kg, run)
    except (IgkgError, OSError) as exc:
        fail(exc)
    if output is not None:
        frame = run.data.copy()
        frame.index = [str(s).rsplit("/", 1)[-1] for s in frame.index]
        frame.index.name = "subject"
        frame.to_csv(output)
    sizes = ", ".join(f"{k}: {v}" for k, v in run.parameters["n_per_batch"].items())  # type: ignore[attr-defined]
    console.print(f"harmonisation run {run.run_id}: {run.data.shape[1]} features, {len(run.data)} subjects ({sizes}); "
                  f"stored {report.graph}", highlight=False, soft_wrap=True)  # type: ignore[attr-defined]
    for note in run.notes:
        console.print(f"  note: {note}", highlight=False, soft_wrap=True)


def icc(
    ctx: typer.Context,
    replicate_column: Annotated[str, typer.Option("--replicate-column", help="The column the table was loaded with (--replicate-column of igkg load).")],
    kind: Annotated[str, typer.Option("--type", help="agreement (ICC(A,1)) or consistency (ICC(C,1)).")] = "agreement",
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only subjects of this cohort (label or IRI).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write feature,icc,ci_low,ci_high,n as CSV here.")] = None,
) -> None:
    """Per-feature ICC with 95% CI, stored on the features (see the module docstring)."""
    from kg.analysis.radiogenomics import feature_icc, write_reliability
    from kg.analysis.radiogenomics.reliability import ICC_OUTPUT_COLUMNS
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx) as kg:
            run = feature_icc(kg, replicate_column=replicate_column, kind=kind, cohort=cohort)
            report = write_reliability(kg, run)
    except (IgkgError, OSError) as exc:
        fail(exc)
    if output is not None:
        run.table[ICC_OUTPUT_COLUMNS].to_csv(output, index=False)
    console.print(f"ICC run {run.run_id}: {run.parameters['method']} for {len(run.table)} features; stored {report.graph}",  # type: ignore[attr-defined]
                  highlight=False, soft_wrap=True)


def predict(
    ctx: typer.Context,
    marker: Annotated[str, typer.Option("--marker", help="The marker by column name or gene.")],
    model: Annotated[str, typer.Option("--model", help="logistic or random-forest.")] = "logistic",
    covariates: Annotated[str | None, typer.Option("--covariates", help="Comma-separated subject variables added as predictors.")] = None,
    harmonise_batch: Annotated[str | None, typer.Option("--harmonise-batch", help="ComBat on this batch variable inside each training fold.")] = None,
    folds: Annotated[int, typer.Option("--folds", help="Folds of the stratified k-fold.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeats of the k-fold.")] = 10,
    permutations: Annotated[int, typer.Option("--permutations", help="Label permutations for the p-value.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (the same seed gives the same numbers).")] = 0,
    cohort: Annotated[str | None, typer.Option("--cohort", help="Train (and cross-validate) on this cohort.")] = None,
    validate_cohort: Annotated[str | None, typer.Option("--validate-cohort", help="Test the model trained on --cohort on this cohort.")] = None,
    harmonised: Annotated[str | None, typer.Option("--harmonised", help="Use the harmonised features: 'latest' or a harmonisation run id.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result as JSON here.")] = None,
) -> None:
    """Validated prediction of a marker (see the module docstring)."""
    from kg.analysis.radiogenomics import predict as run_predict
    from kg.analysis.radiogenomics import write_prediction
    from kg.core.errors import IgkgError

    if model not in ("logistic", "random-forest"):
        fail(ValueError(f"--model is logistic or random-forest, not {model!r}"))
    try:
        with open_graph(ctx) as kg:
            run = run_predict(kg, marker=marker, model=model, covariates=_names(covariates), harmonise_batch=harmonise_batch,
                              folds=folds, repeats=repeats, permutations=permutations, seed=seed, cohort=cohort,
                              validate_cohort=validate_cohort, harmonised=harmonised)
            report = write_prediction(kg, run)
    except (IgkgError, OSError) as exc:
        fail(exc)
    payload = run.to_dict()
    if output is not None:
        output.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    r = run.result
    p = "n/a" if r.permutation_p is None else f"{r.permutation_p:.3g}"
    console.print(f"prediction run {run.run_id}: {r.model} AUC {r.auc:.3f} (95% CI {r.auc_ci_low:.3f}-{r.auc_ci_high:.3f}, {r.ci_method}), "
                  f"permutation p {p}, n {r.n}; stored {report.graph}", highlight=False, soft_wrap=True)  # type: ignore[attr-defined]
