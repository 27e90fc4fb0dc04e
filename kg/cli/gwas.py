"""``igkg gwas``: every selected imaging feature against every variant of the loaded genotypes (exact OLS).

Thin over ``kg.analysis.gwas.run.run_gwas``: model ``feature ~ dosage + covariates`` (OLS, t-test on
the dosage coefficient, no multiple-testing correction beyond ``--p-max``); all summary statistics go to
the data plane (and to ``--output`` as CSV or Parquet, columns ``feature,variant,chrom,pos,
effect_allele,other_allele,eaf,beta,se,p,n``); tests with p <= ``--p-max`` become radiogenomic
associations feature -> variant with their run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import console, fail, open_graph

__all__ = ["gwas"]


def gwas(
    ctx: typer.Context,
    features: Annotated[str | None, typer.Option("--features", help="Glob over the pyradiomics feature names (default: all).")] = None,
    covariates: Annotated[str | None, typer.Option("--covariates", help="Comma-separated covariate names from the loaded clinical tables, e.g. 'V1,V2,V3'.")] = None,
    maf_min: Annotated[float, typer.Option("--maf-min", help="Skip variants whose minor allele frequency is below this.")] = 0.0,
    p_max: Annotated[float, typer.Option("--p-max", help="Tests with p at most this go into the graph.")] = 5e-8,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Run the blocks on this dask scheduler (tcp://host:8786).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write every test here (.csv or .parquet).")] = None,
    genotypes: Annotated[str | None, typer.Option("--genotypes", help="The genotype source (file name or source key) when the store holds several.")] = None,
) -> None:
    """Run an imaging GWAS (see the module docstring)."""
    from kg.analysis.gwas import GwasError
    from kg.analysis.gwas.run import run_gwas
    from kg.core.errors import IgkgError

    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        fail(ValueError(f"--output must end in .csv or .parquet, not {output.name!r}"))
    names = tuple(c.strip() for c in (covariates or "").split(",") if c.strip())
    try:
        with open_graph(ctx) as kg:
            result = run_gwas(kg, features=features, covariates=names, maf_min=maf_min, p_max=p_max,
                              scheduler=scheduler, output=output, genotypes=genotypes)
    except (IgkgError, GwasError, OSError) as exc:
        fail(exc)
    console.print(f"gwas run {result.run_id}: {result.tests} tests ({result.parameters['model']}, "
                  f"{result.parameters['test']}), {len(result.hits)} with p <= {p_max:g} stored in the graph; "
                  "no multiple-testing correction beyond that threshold", highlight=False, soft_wrap=True)
    if result.strongest is not None:
        best = result.strongest
        console.print(f"  strongest: {best['feature']} ~ {best['variant']} ({best['chrom']}:{best['pos']}), "
                      f"beta {best['beta']:.4g}, se {best['se']:.3g}, p {best['p']:.3g}, n {best['n']}",
                      highlight=False, soft_wrap=True)
    for feature, why in result.skipped.items():
        console.print(f"  skipped {feature}: {why}", highlight=False, soft_wrap=True)
    if output is not None:
        console.print(f"  all tests written to {output}", highlight=False)
