"""``igkg plot volcano|heatmap|box``: a run's volcano or heatmap, or a feature by marker status, as PNG or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import console, fail, open_graph

__all__ = ["plot"]


def plot(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="volcano, heatmap or box.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.png or FILE.svg.")],
    run: Annotated[str, typer.Option("--run", help="The analysis run: its id, its IRI or 'latest' (volcano, heatmap).")] = "latest",
    feature: Annotated[str | None, typer.Option("--feature", help="The feature (pyradiomics name): the box plot's values; a volcano of its tests only.")] = None,
    marker: Annotated[str | None, typer.Option("--marker", help="The marker whose status groups the box plot (label or gene symbol).")] = None,
    gene: Annotated[str | None, typer.Option("--gene", help="Group by this gene's marker status, or by its expression above / below the median.")] = None,
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only the subjects of this cohort (box).")] = None,
    top: Annotated[int, typer.Option("--top", help="Features and targets a heatmap shows.")] = 30,
) -> None:
    """Draw a run's volcano plot or features x targets heatmap, or one feature's values by a
    marker's status (box), and write it to --output (PNG or SVG, by the suffix; the same
    input gives the same bytes)."""
    from kg.analysis.figures import FIGURE_KINDS, association_figure
    from kg.core.errors import IgkgError
    from kg.views.plots import save

    try:
        if kind not in FIGURE_KINDS:
            raise IgkgError(f"unknown plot {kind!r}; one of {', '.join(FIGURE_KINDS)}")
        if output.suffix.lower() not in (".png", ".svg"):
            raise IgkgError(f"{output}: the output must end in .png or .svg")
        if marker and gene:
            raise IgkgError("give --marker or --gene, not both")
        with open_graph(ctx, read_only=True) as kg:
            figure = association_figure(kg, kind, run=run, feature=feature, marker=marker, gene=gene, cohort=cohort, top=top)
        path = save(figure, output)
    except (IgkgError, OSError, ValueError) as exc:
        fail(exc)
    console.print(f"{path}: {kind} plot written", highlight=False)
