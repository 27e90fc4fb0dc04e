"""The ``igkg`` command line (``kg.cli.app``); ``igkg = "kg.cli:main"`` is the console script.

>>> from typer.testing import CliRunner
>>> "load" in CliRunner().invoke(app, ["--help"]).output
True
"""

from __future__ import annotations

from kg.cli.app import app, main

__all__ = ["app", "main"]
