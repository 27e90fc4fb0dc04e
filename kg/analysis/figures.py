"""The data behind the radiogenomics plots, gathered from the store: a run's results, a feature by marker.

``run_results`` finds an analysis run (``latest``, its id or its IRI) and returns its results:
every tested pair when the run is given in hand (an ``AssociationRun``) or its full results
are kept, else the associations the run stored in the graph. ``feature_groups`` returns one
feature's values per subject with each subject's group: a marker's status, or for a gene
without a marker its expression above / below the cohort median. ``association_figure``
draws either with ``kg.views.plots``. The CLI (``igkg plot``) and the served pages call these;
nothing here writes files.

>>> from kg.store import KnowledgeGraph
>>> run_results(KnowledgeGraph(None))
Traceback (most recent call last):
...
kg.core.errors.AssociationError: no analysis run in the store; run 'igkg associate' first
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kg.core.errors import AssociationError
from kg.core.namespaces import CATALOG_GRAPH

__all__ = [
    "FIGURE_KINDS",
    "MAX_VOLCANO_POINTS",
    "FeatureGroups",
    "RunResults",
    "association_figure",
    "feature_groups",
    "list_runs",
    "run_results",
    "volcano_points",
]

logger = logging.getLogger(__name__)

FIGURE_KINDS = ("volcano", "heatmap", "box")
"""The plots ``association_figure`` draws."""

MAX_VOLCANO_POINTS = 20_000
"""Most points a volcano draws: the smallest p-values, then an even sample of the rest by p."""

RUNS_QUERY = f"""
SELECT ?run ?run_id ?label ?parameters ?method ?loaded WHERE {{
  ?run a igkg:AnalysisRun ; igkg:settingsHash ?run_id .
  OPTIONAL {{ ?run rdfs:label ?label }}
  OPTIONAL {{ ?run igkg:parameters ?parameters }}
  OPTIONAL {{ ?run igkg:methodName ?method }}
  OPTIONAL {{ GRAPH ?g {{ ?run a igkg:AnalysisRun }} GRAPH <{CATALOG_GRAPH}> {{ ?g prov:generatedAtTime ?loaded }} }}
}}"""
"""Every analysis run with its id, label, parameters, method and when it was stored."""

RESULTS_QUERY = """
SELECT ?association ?feature_iri ?feature ?target ?target_label ?statistic ?effect_size ?p ?q ?n WHERE {
  ?association prov:wasGeneratedBy ?run ; a igkg:RadiogenomicAssociation ;
               igkg:feature ?feature_iri ; igkg:target ?target .
  OPTIONAL { ?association igkg:statistic ?statistic }
  OPTIONAL { ?association igkg:effectSize ?effect_size }
  OPTIONAL { ?association igkg:pValue ?p }
  OPTIONAL { ?association igkg:qValue ?q }
  OPTIONAL { ?association igkg:sampleSize ?n }
  OPTIONAL { ?feature_iri igkg:pyradiomicsName ?pyradiomics_name }
  OPTIONAL { ?feature_iri rdfs:label ?feature_label }
  OPTIONAL { ?target rdfs:label ?target_label }
  BIND(COALESCE(?pyradiomics_name, ?feature_label, STR(?feature_iri)) AS ?feature)
}"""
"""The associations a run (bound as ``?run``) stored, with their statistics."""


@dataclass
class RunResults:
    """An analysis run's results: ``feature, target, statistic, effect_size, p, q, n`` per tested pair.

    ``complete`` says whether every tested pair is there, or only those the run stored in the
    graph (its q <= q_max; ``parameters["q_max"]`` says which).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> from kg.analysis.associations import run_analysis, write_run
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> found = run_results(kg)
    >>> found.run_id == run.run_id, found.complete
    (True, True)
    """

    run: str
    run_id: str
    label: str
    parameters: dict[str, Any]
    results: pd.DataFrame
    complete: bool

    @property
    def q_max(self) -> float:
        """The run's q threshold (0.05 when it did not record one).

        >>> import pathlib, tempfile
        >>> from kg import KnowledgeGraph
        >>> from kg.analysis.associations import run_analysis, write_run
        >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
        >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
        ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(table, kind="radiomics-csv")
        >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
        >>> _ = write_run(kg, run)
        >>> run_results(kg).q_max
        1.0
        """
        return float(self.parameters.get("q_max", 0.05) or 0.05)


@dataclass
class FeatureGroups:
    """One feature's values per subject and each subject's group, ready for a box plot.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> from kg.analysis.associations import run_analysis, write_run
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> groups = feature_groups(kg, "original_firstorder_Mean", marker="EGFR")
    >>> groups.grouping, groups.order
    ('EGFR mutation status', ['negative', 'positive'])
    """

    feature: str
    grouping: str
    values: pd.Series
    groups: pd.Series
    order: list[Any] = field(default_factory=list)
    note: str = ""


def list_runs(kg: Any) -> pd.DataFrame:
    """Every analysis run: ``run, run_id, label, method, loaded``, the latest stored first.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> from kg.analysis.associations import run_analysis, write_run
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> list_runs(kg)[["run_id", "method"]].values.tolist() == [[run.run_id, "mannwhitney"]]
    True
    """
    frame = kg.query(RUNS_QUERY)
    if frame.empty:
        return frame
    frame = frame.sort_values(["loaded", "run_id"], ascending=[False, True], na_position="last", kind="stable")
    return frame.drop_duplicates("run").reset_index(drop=True)


def _find_run(kg: Any, run: str) -> pd.Series:
    runs = list_runs(kg)
    if runs.empty:
        raise AssociationError("no analysis run in the store; run 'igkg associate' first")
    if run in ("", "latest"):
        return runs.iloc[0]
    chosen = runs[(runs["run_id"] == run) | (runs["run"] == run) | (runs["run"].str.endswith("/" + run))]
    if chosen.empty:
        known = ", ".join(f"{r.run_id} ({r.label})" for r in runs.head(10).itertuples())
        raise AssociationError(f"no analysis run {run!r} in the store; runs: {known}")
    return chosen.iloc[0]


def run_results(kg: Any, run: Any = "latest") -> RunResults:
    """The results of ``run``: ``"latest"`` (the run stored last), a run id, a run IRI or an
    ``AssociationRun`` (whose in-memory results, every tested pair, are used as they are).

    :raises AssociationError: no run in the store, or none with that id.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> from kg.analysis.associations import run_analysis, write_run
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> run_results(kg, run.run_id).results[["feature", "p"]].values.tolist()
    [['original_firstorder_Mean', 0.028...]]
    """
    if not isinstance(run, str):
        parameters = dict(run.parameters)
        label = f"{parameters.get('targets', 'association')} ({parameters.get('method', '')}) run {run.run_id}"
        return RunResults(f"run:{run.run_id}", str(run.run_id), label, parameters, run.results, True)
    row = _find_run(kg, run)
    parameters = json.loads(row["parameters"]) if isinstance(row.get("parameters"), str) else {}
    label = str(row.get("label") or row["run_id"])
    frame = kg.query(RESULTS_QUERY, {"run": _iri(row["run"])})
    frame["target_iri"] = frame["target"]
    frame["target"] = frame["target_label"].fillna(frame["target"])
    for column in ("statistic", "effect_size", "p", "q", "n"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    full = _full_results(kg, str(row["run_id"]))
    if full is not None:
        # every tested pair, with the IRIs of the associations the run stored in the graph
        links = frame[["feature", "target", "feature_iri", "target_iri", "association"]].drop_duplicates(["feature", "target"])
        full = full.drop(columns=[c for c in ("feature_iri", "target_iri", "association") if c in full.columns])
        full = full.merge(links, on=["feature", "target"], how="left", sort=False)
        full = full.sort_values(["p", "feature", "target"], kind="stable").reset_index(drop=True)
        return RunResults(str(row["run"]), str(row["run_id"]), label, parameters, full, True)
    frame = frame.sort_values(["p", "feature", "target"], kind="stable").reset_index(drop=True)
    stored_all = float(parameters.get("q_max", 0.05) or 0.05) >= 1.0
    return RunResults(str(row["run"]), str(row["run_id"]), label, parameters, frame, stored_all)


def _iri(text: str) -> Any:
    from rdflib import URIRef

    return URIRef(str(text))


def _full_results(kg: Any, run_id: str) -> pd.DataFrame | None:
    """Every tested pair of a run, when the engine kept them (Parquet beside the graph)."""
    from kg.analysis.associations import read_results

    if getattr(kg, "data_plane", None) is None:
        return None
    try:
        return read_results(kg, run_id)
    except AssociationError:
        return None


def volcano_points(results: pd.DataFrame, *, limit: int = MAX_VOLCANO_POINTS) -> pd.DataFrame:
    """The rows a volcano draws: all when at most ``limit``, else the ``limit * 3 // 4`` smallest
    p-values and an even sample (every k-th by p) of the rest, so millions of tests stay a
    readable, deterministic picture whose significant part is complete when it fits.

    >>> frame = pd.DataFrame({"p": np.linspace(0, 1, 101)})
    >>> len(volcano_points(frame, limit=40))
    40
    """
    if len(results) <= limit:
        return results
    ordered = results.sort_values("p", kind="stable")
    head = limit * 3 // 4
    rest = ordered.iloc[head:]
    picks = np.linspace(0, len(rest) - 1, limit - head).round().astype(int)
    return pd.concat([ordered.iloc[:head], rest.iloc[np.unique(picks)]])


def feature_groups(
    kg: Any,
    feature: str,
    *,
    marker: str | None = None,
    gene: str | None = None,
    cohort: str | None = None,
) -> FeatureGroups:
    """One feature's values per subject grouped by a marker's status (``marker``, or the marker
    of ``gene``), or by ``gene``'s expression above / below the cohort median when the gene
    has no marker. Values come from the columnar data plane.

    :raises AssociationError: no such feature, marker or gene, or no subject with both.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> from kg.analysis.associations import run_analysis, write_run
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> feature_groups(kg, "original_firstorder_Mean", marker="EGFR").groups.value_counts().to_dict()
    {'positive': 4, 'negative': 4}
    """
    if bool(marker) == bool(gene):
        raise AssociationError("give exactly one of --marker or --gene")
    values = _feature_values(kg, feature, cohort)
    if gene and not _has_marker(kg, gene):
        expression = _matrix_column(kg, "expression", gene, cohort, what="gene expression")
        expression = expression.dropna()
        median = float(expression.median())
        groups = pd.Series(np.where(expression > median, f"high {gene}", f"low {gene}"), index=expression.index)
        note = f"{gene} expression split at the median ({median:.3g}) of {len(expression)} subjects"
        return FeatureGroups(feature, f"{gene} expression", values, groups, [f"low {gene}", f"high {gene}"], note)
    from kg.analysis.associations import marker_targets

    name = str(marker or gene)
    targets = marker_targets(kg, [name])
    label = str(targets.targets.columns[0])
    status = targets.targets[label].dropna()
    groups = status.map({1.0: "positive", 0.0: "negative"})
    note = "; ".join(targets.notes)
    return FeatureGroups(feature, label, values, groups, ["negative", "positive"], note)


def _has_marker(kg: Any, gene: str) -> bool:
    from kg.analysis.associations import marker_targets

    try:
        marker_targets(kg, [gene])
    except AssociationError:
        return False
    return True


def _feature_values(kg: Any, feature: str, cohort: str | None) -> pd.Series:
    return _matrix_column(kg, "radiomics", feature, cohort, what="radiomic feature")


def _matrix_column(kg: Any, kind: str, name: str, cohort: str | None, *, what: str) -> pd.Series:
    from kg.core.errors import IgkgError

    try:
        frame = kg.matrix(kind=kind, cohort=cohort, features=[name])
    except IgkgError as exc:
        raise AssociationError(f"{what} {name!r}: {exc}") from None
    if frame.index.nlevels > 1:
        frame = frame.groupby(level="subject").first()
    if name not in frame.columns or frame[name].dropna().empty:
        raise AssociationError(f"no values of {what} {name!r}{' in cohort ' + repr(cohort) if cohort else ''}")
    series = pd.to_numeric(frame[name], errors="coerce")
    series.index = series.index.astype(str)
    return series


def association_figure(
    kg: Any,
    kind: str,
    *,
    run: Any = "latest",
    feature: str | None = None,
    marker: str | None = None,
    gene: str | None = None,
    cohort: str | None = None,
    top: int = 30,
) -> Any:
    """A ``matplotlib`` figure: a run's ``volcano`` or features x targets ``heatmap``, or the
    ``box`` plot of ``feature`` by ``marker`` (or ``gene``) status.

    A volcano of a run that stored only its significant associations says so in its title;
    a heatmap draws the ``top`` strongest features and targets, starring q <= the run's q_max.

    :raises AssociationError: unknown kind, no run, or missing feature / marker.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> from kg.analysis.associations import run_analysis, write_run
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> type(association_figure(kg, "volcano")).__name__
    'Figure'
    >>> association_figure(kg, "pie")
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: unknown plot 'pie'; one of ...
    """
    from kg.views import plots

    if kind not in FIGURE_KINDS:
        raise AssociationError(f"unknown plot {kind!r}; one of {', '.join(FIGURE_KINDS)}")
    if kind == "box":
        if not feature:
            raise AssociationError("a box plot needs --feature NAME")
        data = feature_groups(kg, feature, marker=marker, gene=gene, cohort=cohort)
        return plots.box(data.values, data.groups, feature=data.feature, marker=data.grouping, order=data.order, note=data.note or None)
    found = run_results(kg, run)
    results = found.results
    if feature:
        results = results[results["feature"] == feature]
    if gene or marker:
        results = results[results["target"] == (gene or marker)]
    if results.empty:
        raise AssociationError(f"run {found.run_id} has no result{' for ' + repr(feature or gene or marker) if feature or gene or marker else ''}")
    method = str(found.parameters.get("method", "")) or "association"
    if kind == "volcano":
        shown = volcano_points(results)
        n_sig = int((results["q"] <= found.q_max).sum())
        title = f"{method}: {len(results):,} tests, {n_sig:,} with q ≤ {found.q_max:g}"
        if len(shown) < len(results):
            title += f"\n({len(shown):,} drawn: the smallest p and an even sample of the rest)"
        if not found.complete:
            title += "\n(only the associations the run stored: q ≤ its q_max)"
        null = 0.5 if method == "mannwhitney" else 0.0 if method in ("spearman", "pearson", "pointbiserial", "linear", "logistic") else None
        effect = "effect_size" if method == "mannwhitney" and "effect_size" in results else "statistic"
        several = results["target"].nunique() > 1
        shown = shown.assign(pair=shown["feature"].astype(str) + (" ~ " + shown["target"].astype(str) if several else ""))
        return plots.volcano(shown, effect=effect, label="pair", q_max=found.q_max, null=null, title=title)
    # the features with the smallest p, then the targets with the smallest p among them; every
    # tested pair of that block is drawn (a run that kept only its significant pairs leaves gaps)
    ranked = results.sort_values(["p", "feature", "target"], kind="stable").drop_duplicates(["feature", "target"])
    rows = ranked.drop_duplicates("feature")["feature"].head(top)
    columns = ranked[ranked["feature"].isin(set(rows))].drop_duplicates("target")["target"].head(top)
    block = ranked[ranked["feature"].isin(set(rows)) & ranked["target"].isin(set(columns))]
    matrix = plots.results_matrix(block, value="statistic")
    q = plots.results_matrix(block, value="q")
    return plots.heatmap(matrix, top=top, top_columns=top, q=q, q_max=found.q_max, value_label="statistic",
                         title=f"{method}: the {min(top, matrix.shape[0])} strongest features x targets")
