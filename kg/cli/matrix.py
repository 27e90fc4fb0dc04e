"""``igkg matrix``: a cohort matrix from the columnar data plane, written to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import console, fail, open_graph

__all__ = ["matrix"]

KINDS = ("radiomics", "traits", "expression", "markers", "clinical", "genotypes")


def matrix(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.csv, FILE.tsv or FILE.parquet.")],
    kind: Annotated[str, typer.Option("--kind", help="radiomics, traits, expression, markers, clinical or genotypes.")] = "radiomics",
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only the subjects of this cohort (label or IRI).")] = None,
    features: Annotated[str | None, typer.Option("--features", help="A glob on the variable names as loaded (e.g. 'original_glcm_*').")] = None,
) -> None:
    """Write subjects x variables (first column the subject IRI, then one column per variable, named
    as loaded: the pyradiomics name, the gene symbol, the header); values exactly as loaded."""
    from kg.core.errors import IgkgError

    if kind not in KINDS:
        fail(IgkgError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}"))
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".tsv", ".parquet"):
        fail(IgkgError(f"{output}: the output must end in .csv, .tsv or .parquet"))
    try:
        with open_graph(ctx, read_only=True) as kg:
            frame = kg.matrix(kind=kind, cohort=cohort, features=features)
        table = frame.reset_index()
        if suffix == ".parquet":
            table.to_parquet(output, index=False)
        else:
            table.to_csv(output, index=False, sep="\t" if suffix == ".tsv" else ",")
    except (IgkgError, OSError) as exc:
        fail(exc)
    console.print(f"{output}: {frame.shape[0]} subjects x {frame.shape[1]} {kind} variables", highlight=False)
