"""ComBat harmonisation of a cohort's radiomic features as a run: a new version of the matrix.

:func:`harmonise` reads the features (data plane) and the batch and covariates (subject
variables by column name), fits ComBat (:mod:`kg.analysis.stats.combat`) and returns the
harmonised matrix with its model; :func:`write_harmonisation` stores it as the source graph
``harmonisation/<run id>``: an ``igkg:HarmonisationRun`` (``prov:Activity``: batch variable,
covariates, settings, subjects per batch, summary of gamma*/delta* per batch) whose data-plane
files are the harmonised matrix (kind ``radiomics-harmonised``, ``prov:wasDerivedFrom`` the
source graphs) and the full table of estimated batch parameters. Analyses read it back with
:func:`harmonised_features` (the latest run, or one by id).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from rdflib import Literal
from rdflib.namespace import RDF, RDFS

from kg.analysis.associations.inputs import imaging_features
from kg.analysis.associations.records import AnalysisInput
from kg.analysis.radiogenomics.runs import (
    activity_triples,
    cohort_members,
    double,
    latest_run,
    run_identifier,
    run_node,
    store_run,
    used_files,
)
from kg.analysis.radiogenomics.variables import subject_table
from kg.analysis.stats.combat import ComBatModel, combat
from kg.analysis.stats.errors import HarmonisationError
from kg.core.errors import AssociationError
from kg.core.iris import mint
from kg.core.namespaces import IGKG, PROV
from kg.core.settings import Settings

__all__ = [
    "HARMONISED_KIND",
    "PARAMETERS_KIND",
    "RUN_KIND",
    "HarmonisationRun",
    "harmonise",
    "harmonised_features",
    "write_harmonisation",
]

RUN_KIND = "harmonisation-run"
"""Catalog kind of a stored harmonisation run."""
HARMONISED_KIND = "radiomics-harmonised"
"""Data-plane kind of a harmonised feature matrix (never mixed into ``kind='radiomics'``)."""
PARAMETERS_KIND = "harmonisation-parameters"
"""Data-plane kind of a run's estimated batch parameters (batch x feature: gamma/delta hat and star)."""


@dataclass
class HarmonisationRun:
    """One ComBat run: its id, parameters, the harmonised matrix (subjects x features as loaded) and model.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean,original_shape_Sphericity\\n"
    ...     "P1,1.0,0.5\\nP2,1.4,0.6\\nP3,1.1,0.55\\nP4,2.0,0.7\\nP5,2.3,0.8\\nP6,2.1,0.75\\n")
    >>> _ = (folder / "clinical.csv").write_text("Case ID,Site\\nP1,A\\nP2,A\\nP3,A\\nP4,B\\nP5,B\\nP6,B\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> run = harmonise(kg, batch="Site")
    >>> run.data.shape, list(run.feature_iris), run.notes
    ((6, 2), ['original_firstorder_Mean', 'original_shape_Sphericity'], [])
    """

    run_id: str
    parameters: dict[str, object]
    data: pd.DataFrame
    model: ComBatModel
    feature_iris: dict[str, str]
    used: list[str]
    notes: list[str] = field(default_factory=list)


def _batch_label(series: pd.Series, value: str | None) -> Hashable | None:
    """``--ref-batch`` text as a label of the batch variable."""
    if value is None:
        return None
    if series.dtype == "float64":
        return float(value)
    return value


def harmonise(
    kg: object,
    *,
    batch: str,
    covariates: Sequence[str] = (),
    parametric: bool = True,
    eb: bool = True,
    mean_only: bool = False,
    ref_batch: str | None = None,
    cohort: str | None = None,
) -> HarmonisationRun:
    """ComBat over the cohort's radiomic features with ``batch`` (a subject variable's column name).

    Subjects need a feature row, a batch and every covariate; features with a missing value
    among them are left out (noted). Nothing is written; see :func:`write_harmonisation`.

    :raises HarmonisationError: a batch with one subject, a covariate confounded with batch, ...
    :raises AssociationError: an unknown variable name (lists the available ones), no features.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean,original_shape_Sphericity\\n"
    ...     "P1,1.0,0.5\\nP2,1.4,0.6\\nP3,1.1,0.55\\nP4,2.0,0.7\\nP5,2.3,0.8\\nP6,2.1,0.75\\n")
    >>> _ = (folder / "clinical.csv").write_text("Case ID,Site\\nP1,A\\nP2,A\\nP3,A\\nP4,B\\nP5,B\\nP6,B\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> data = harmonise(kg, batch="Site").data["original_firstorder_Mean"]  # site means 1.17 and 2.13 before
    >>> bool(abs(data.iloc[:3].mean() - data.iloc[3:].mean()) < 0.1)
    True
    >>> harmonise(kg, batch="Site", covariates=["Site"])
    Traceback (most recent call last):
    ...
    kg.analysis.stats.errors.HarmonisationError: a covariate is the batch variable 'Site' or named twice: ...
    """
    features = imaging_features(kg, cohort=cohort)
    names = [batch, *covariates]
    if len(set(names)) < len(names):
        raise HarmonisationError(f"a covariate is the batch variable {batch!r} or named twice: a covariate confounded with batch cannot be kept")
    variables, graphs = subject_table(kg, names, subjects=list(features.features.index))
    table = variables.reindex(features.features.index).dropna()
    if table.empty:
        raise HarmonisationError(f"no subject has features, {batch!r} and the covariates {list(covariates)}")
    data = features.features.loc[table.index]
    incomplete = [c for c in data.columns if data[c].isna().any()]
    notes = list(features.notes)
    if incomplete:
        data = data.drop(columns=incomplete)
        notes.append(f"{len(incomplete)} feature(s) with missing values left out of ComBat ({', '.join(incomplete[:5])})")
    labels = table[batch]
    labels = labels.astype(object) if isinstance(labels.dtype, pd.CategoricalDtype) else labels
    cov = table[[c for c in names if c != batch]] if len(names) > 1 else None
    categorical = [c for c in names[1:] if isinstance(table[c].dtype, pd.CategoricalDtype)]
    result = combat(data, labels.rename(batch), covariates=cov, categorical=categorical, parametric=parametric,
                    eb=eb, mean_only=mean_only, ref_batch=_batch_label(table[batch], ref_batch))
    used = sorted(set(features.graphs) | set(graphs))
    used += used_files(kg, used, ("radiomics", "clinical", "markers"))
    parameters: dict[str, object] = {
        "method": "ComBat (Johnson 2007; Fortin 2017)",
        "batch": batch,
        "covariates": list(covariates),
        "parametric": parametric,
        "eb": eb,
        "mean_only": mean_only,
        "ref_batch": ref_batch,
        "cohort": cohort,
        "n": len(data),
        "n_per_batch": {str(k): int(v) for k, v in result.model.n_per_batch.items()},
        "n_features": int(data.shape[1]),
    }
    return HarmonisationRun(
        run_id=run_identifier(parameters, used),
        parameters=parameters,
        data=result.data,
        model=result.model,
        feature_iris={k: v for k, v in features.feature_iris.items() if k in result.data.columns},
        used=used,
        notes=notes,
    )


def write_harmonisation(kg: object, run: HarmonisationRun) -> object:
    """Store the run (graph ``harmonisation/<run id>``) and its matrices in the data plane.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean,original_shape_Sphericity\\n"
    ...     "P1,1.0,0.5\\nP2,1.4,0.6\\nP3,1.1,0.55\\nP4,2.0,0.7\\nP5,2.3,0.8\\nP6,2.1,0.75\\n")
    >>> _ = (folder / "clinical.csv").write_text("Case ID,Site\\nP1,A\\nP2,A\\nP3,A\\nP4,B\\nP5,B\\nP6,B\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> report = write_harmonisation(kg, harmonise(kg, batch="Site"))
    >>> report.skipped, len(kg.matrix_files(kind=HARMONISED_KIND))
    (False, 1)
    """
    node = run_node(RUN_KIND, run.run_id)
    base = Settings.from_env().base
    settings = run.model.settings()
    triples = activity_triples(node, IGKG.HarmonisationRun, f"igkg harmonise --batch {run.parameters['batch']} run {run.run_id}",
                               run.run_id, {**run.parameters, "model": settings}, run.used)
    triples.append((node, IGKG.batchVariable, Literal(str(run.parameters["batch"]))))
    triples += [(node, IGKG.covariate, Literal(str(c))) for c in run.parameters["covariates"]]  # type: ignore[attr-defined]
    triples.append((node, IGKG.sampleSize, Literal(int(run.parameters["n"]))))  # type: ignore[arg-type]
    if run.parameters.get("cohort"):
        triples.append((node, IGKG.cohort, mint(base, "cohort", str(run.parameters["cohort"]).strip())))
    for level in run.model.batches:
        batch_node = mint(base, "harmonisation-batch", run.run_id, str(level))
        triples += [
            (batch_node, RDF.type, IGKG.HarmonisationBatch),
            (batch_node, RDFS.label, Literal(f"{run.parameters['batch']} = {level}")),
            (batch_node, IGKG.batchLevel, Literal(str(level))),
            (batch_node, IGKG.sampleSize, Literal(int(run.model.n_per_batch[level]))),
            (batch_node, IGKG.gammaStarMean, double(float(run.model.gamma_star.loc[level].mean()))),
            (batch_node, IGKG.deltaStarMean, double(float(run.model.delta_star.loc[level].mean()))),
            (batch_node, PROV.wasGeneratedBy, node),
            (node, IGKG.batch, batch_node),
        ]
    matrix = run.data.copy()
    matrix.insert(0, "subject", [str(s) for s in matrix.index])
    params = run.model.batch_parameters()
    params.insert(0, "subject", params["batch"].astype(str) + "\t" + params["feature"].astype(str))
    params["batch"] = params["batch"].astype(str)
    report = store_run(
        kg, f"harmonisation/{run.run_id}", triples, kind=RUN_KIND, node=node, parameters=run.parameters, used=run.used,
        tables={
            "harmonised": (HARMONISED_KIND, matrix.reset_index(drop=True), dict(run.feature_iris)),
            "batch-parameters": (PARAMETERS_KIND, params),
        },
    )
    return report


def _run_files(kg: object, run_id: str | None) -> tuple[str, list[object]]:
    if run_id is None:
        run_id = latest_run(kg, IGKG.HarmonisationRun)
        if run_id is None:
            raise AssociationError("no harmonisation run in the store; run 'igkg harmonise --batch COLUMN' first")
    files = [f for f in kg.matrix_files(kind=HARMONISED_KIND) if f.source_key == f"harmonisation/{run_id}"]  # type: ignore[attr-defined]
    if not files:
        raise AssociationError(f"no harmonised matrix of run {run_id!r} in the store (see the runs: igkg stats)")
    return run_id, files


def harmonised_features(kg: object, run_id: str | None = None, *, cohort: str | None = None) -> tuple[str, AnalysisInput]:
    """The harmonised matrix of run ``run_id`` (the latest run when ``None``) as analysis input.

    :raises AssociationError: no harmonisation run (or none with that id) in the store.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean,original_shape_Sphericity\\n"
    ...     "P1,1.0,0.5\\nP2,1.4,0.6\\nP3,1.1,0.55\\nP4,2.0,0.7\\nP5,2.3,0.8\\nP6,2.1,0.75\\n")
    >>> _ = (folder / "clinical.csv").write_text("Case ID,Site\\nP1,A\\nP2,A\\nP3,A\\nP4,B\\nP5,B\\nP6,B\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> run = harmonise(kg, batch="Site")
    >>> _ = write_harmonisation(kg, run)
    >>> run_id, found = harmonised_features(kg)
    >>> run_id == run.run_id, bool(((found.features.loc[run.data.index] - run.data).abs() < 1e-9).all().all())
    (True, True)
    >>> harmonised_features(KnowledgeGraph(None))
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: no harmonisation run in the store; run 'igkg harmonise --batch COLUMN' first
    """
    run_id, files = _run_files(kg, run_id)
    members = cohort_members(kg, cohort)
    plane = kg.data_plane  # type: ignore[attr-defined]
    frame = plane.matrix(files, subjects=members)
    frame.columns = [str(c) for c in frame.columns]
    frame.columns.name = None
    iris: dict[str, str] = {}
    for file in files:
        iris.update(plane.column_map(file))
    owner = kg.matrix_graphs(kind=HARMONISED_KIND)  # type: ignore[attr-defined]
    graphs = sorted({owner[f.path] for f in files if f.path in owner})
    notes = [f"features harmonised by run {run_id}"]
    return run_id, AnalysisInput(frame.dropna(axis=1, how="all"), pd.DataFrame(), iris, {}, graphs, notes)
