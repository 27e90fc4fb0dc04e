"""``igkg matrix``: a cohort matrix from the columnar data plane, written to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import console, fail, open_graph
from loaders import MATRIX_KINDS

__all__ = ["matrix"]


def matrix(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.csv, FILE.tsv or FILE.parquet.")],
    kind: Annotated[str, typer.Option("--kind", help=", ".join(MATRIX_KINDS) + " (genotypes: subjects x the variant ids the --features glob chooses).")] = "radiomics",
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only the subjects of this cohort (label or IRI).")] = None,
    features: Annotated[str | None, typer.Option("--features", help="A glob on the variable names as loaded (e.g. 'original_glcm_*'); required for genotypes (variant ids, e.g. '1:1*').")] = None,
) -> None:
    """Write subjects x variables (first column the subject IRI, then one column per variable, named
    as loaded: the pyradiomics name, the gene symbol, the variant id, the header); values exactly as
    loaded. A by-variable matrix (genotype dosages: one column per variant, millions of them) is written
    only for the variables a ``--features`` glob chooses; without one it is refused."""
    from kg.core.errors import IgkgError

    if kind not in MATRIX_KINDS:
        fail(IgkgError(f"--kind must be one of {', '.join(MATRIX_KINDS)}, not {kind!r}"))
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".tsv", ".parquet"):
        fail(IgkgError(f"{output}: the output must end in .csv, .tsv or .parquet"))
    try:
        with open_graph(ctx, read_only=True) as kg:
            by_variable = [f for f in kg.matrix_files(kind=kind) if f.layout != "wide"]
            if by_variable and not features:
                raise IgkgError(f"the {kind} matrix is by variable ({by_variable[0].columns} variables in {by_variable[0].source_key}): "
                                "choose the variables with --features GLOB (variant ids, e.g. --features 'rs12*')")
            frame = kg.matrix(kind=kind, cohort=cohort, features=features)
        table = frame.reset_index()
        if suffix == ".parquet":
            table.to_parquet(output, index=False)
        else:
            _write_csv(table, output, "\t" if suffix == ".tsv" else ",")
    except (IgkgError, OSError) as exc:
        fail(exc)
    console.print(f"{output}: {frame.shape[0]} subjects x {frame.shape[1]} {kind} variables", highlight=False)


def _write_csv(table: object, output: Path, sep: str) -> None:
    """``table`` (a DataFrame) as CSV by Arrow's writer (C++: a 20,000 x 100 matrix in a fraction of
    ``DataFrame.to_csv``'s time; floats in their shortest round-trip form, missing values empty);
    by pandas when Arrow cannot write a column's type."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        pacsv.write_csv(arrow, output, write_options=pacsv.WriteOptions(delimiter=sep))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        table.to_csv(output, index=False, sep=sep)  # type: ignore[attr-defined]
