"""``igkg reason``: classify the ontology and materialise the inferences into one graph."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import fail, open_graph, out

__all__ = ["reason"]


def reason(
    ctx: typer.Context,
    reasoner: Annotated[str, typer.Option("--reasoner", help="hermit (default) or pellet.")] = "hermit",
) -> None:
    """Classify the ontology and materialise inferences into the graph 'inferences/owlready2'."""
    from kg.analysis.reasoning import materialise
    from kg.core.errors import IgkgError

    try:
        with open_graph(ctx) as kg:
            report = materialise(kg, reasoner=reasoner)
    except (IgkgError, OSError) as exc:
        fail(exc)
    out.print(report.summary(), highlight=False, soft_wrap=True)
    if not report.consistent:
        raise typer.Exit(code=2)
