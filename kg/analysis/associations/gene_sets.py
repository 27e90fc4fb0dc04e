"""Gene sets for the association engine: GMT files (through ``loaders.gmt.iter_gmt``) and per-subject scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kg.core.errors import LoadError
from loaders.gmt import iter_gmt

__all__ = ["GeneSet", "gene_set_scores", "read_gmt"]

@dataclass(frozen=True)
class GeneSet:
    """One gene set of a GMT file: its name, the IRI of what it is (if known) and its genes.

    >>> import pathlib, tempfile
    >>> gmt = pathlib.Path(tempfile.mkdtemp()) / "sets.gmt"
    >>> _ = gmt.write_text("WNT\\thttp://example.org/wnt\\tA\\tB\\tC\\n")
    >>> read_gmt(gmt)
    [GeneSet(name='WNT', description='http://example.org/wnt', genes=('A', 'B', 'C'))]
    """

    name: str
    description: str
    genes: tuple[str, ...]


def read_gmt(path: str | Path) -> list[GeneSet]:
    """Read a GMT file (name, description or URL, genes ... per tab-separated line) with
    ``loaders.gmt.iter_gmt`` (so Enrichr weights are dropped the same way).

    :raises LoadError: a line with no genes, or a set name met twice (names the line).

    >>> import pathlib, tempfile
    >>> gmt = pathlib.Path(tempfile.mkdtemp()) / "sets.gmt"
    >>> _ = gmt.write_text("WNT\\thttp://example.org/wnt\\tA\\tB\\tC\\n")
    >>> [gene_set.name for gene_set in read_gmt(gmt)]
    ['WNT']
    """
    sets: list[GeneSet] = []
    seen: set[str] = set()
    for entry in iter_gmt(Path(path)):
        if not entry.name or not entry.members:
            raise LoadError(path, "a GMT line needs a name, a description and at least one gene, tab-separated", line=entry.line)
        if entry.name in seen:
            raise LoadError(path, f"gene set {entry.name!r} appears twice", line=entry.line, hint="give each set a unique name")
        seen.add(entry.name)
        sets.append(GeneSet(entry.name, entry.description, entry.members))
    return sets


def gene_set_scores(expression: pd.DataFrame, gene_sets: Sequence[GeneSet], *, min_genes: int = 3) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per-subject gene-set scores: the mean z-score (over subjects) of the set's genes.

    ``expression`` has subjects as rows and genes (named as in the sets) as columns. A
    subject's score averages the z-scores of the member genes it has values for. Sets
    with fewer than ``min_genes`` measured genes get no score. Returns the scores and,
    per scored set, how many of its genes were measured.

    >>> expression = pd.DataFrame({"A": [1.0, 2, 3], "B": [2.0, 4, 6], "C": [0.0, 1, 0]}, index=["s1", "s2", "s3"])
    >>> scores, measured = gene_set_scores(expression, [GeneSet("WNT", "", ("A", "B", "C"))])
    >>> scores.round(3).to_dict("list"), measured
    ({'WNT': [-0.859, 0.385, 0.474]}, {'WNT': 3})
    """
    values = expression.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (values - np.nanmean(values, axis=0)) / np.nanstd(values, axis=0, ddof=1)
    z = np.where(np.isfinite(z), z, np.nan)
    position = {str(c): i for i, c in enumerate(expression.columns)}
    scores: dict[str, np.ndarray] = {}
    used: dict[str, int] = {}
    for gene_set in gene_sets:
        columns = [position[g] for g in gene_set.genes if g in position]
        if len(columns) < min_genes:
            continue
        block = z[:, columns]
        with np.errstate(invalid="ignore"):
            scores[gene_set.name] = np.nanmean(block, axis=1) if np.isnan(block).any() else block.mean(axis=1)
        used[gene_set.name] = len(columns)
    return pd.DataFrame(scores, index=expression.index), used
