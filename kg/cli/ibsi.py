"""``igkg ibsi-report``: igkg's features on the IBSI digital phantom against the IBSI manual."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kg.cli.common import fail

__all__ = ["ibsi_report"]


def ibsi_report(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the table here (.csv or .md); Markdown on standard output otherwise.")] = None,
    manual: Annotated[Optional[Path], typer.Option("--manual", help="IBSI manual source 03_Image_features.rst.")] = None,
    phantom: Annotated[Optional[Path], typer.Option("--phantom", help="IBSI digital phantom folder (image/, mask/).")] = None,
) -> None:
    """Compare igkg's features on the IBSI digital phantom with the IBSI manual's reference values."""
    from kg.analysis.ibsi_conformance import conformance_report, default_paths, write_report
    from kg.core.errors import IgkgError

    default_manual, default_phantom = default_paths()
    manual = manual or default_manual
    phantom = phantom or default_phantom
    try:
        for path, what in ((manual, "--manual"), (phantom, "--phantom")):
            if not path.exists():
                raise IgkgError(f"{path} not found; give {what}")
        frame = conformance_report(manual, phantom)
        text = write_report(frame, output)
    except (IgkgError, OSError) as exc:
        fail(exc)
    if output is None:
        sys.stdout.write(text)
    else:
        computed = frame[frame["within_tolerance"] != ""]
        ok = int((computed["within_tolerance"] == True).sum())  # noqa: E712
        typer.echo(f"{ok} of {len(computed)} computed IBSI features within tolerance; written to {output}", err=True)
