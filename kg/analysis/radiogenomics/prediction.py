"""Validated prediction of a marker from a cohort's imaging features, as a run.

:func:`predict` reads the features (or a harmonised version of them), the marker and any
covariates / batch by column name and runs :func:`kg.analysis.stats.predict.predict_marker`
(scaling, selection and ComBat fitted inside each training fold; repeated stratified k-fold;
DeLong 95% CI; label-permutation p-value). :func:`write_prediction` stores an
``igkg:PredictionRun`` (``prov:Activity``) and an ``igkg:PredictionResult`` node (AUC, CI, permutation p, n, model, settings) linked to the run, the marker
and the features the final model uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.analysis.associations.inputs import imaging_features, marker_targets
from kg.analysis.radiogenomics.harmonise import harmonised_features
from kg.analysis.radiogenomics.runs import (
    activity_triples,
    double,
    run_identifier,
    run_node,
    store_run,
    used_files,
)
from kg.analysis.radiogenomics.variables import subject_table
from kg.analysis.stats.predict import PredictionResult, predict_marker
from kg.core.iris import mint
from kg.core.namespaces import IGKG, PROV
from kg.core.settings import Settings

__all__ = ["RUN_KIND", "PredictionRun", "predict", "write_prediction"]

RUN_KIND = "prediction-run"
"""Catalog kind of a stored prediction run."""



@dataclass
class PredictionRun:
    """One prediction run: id, parameters, the result, the IRIs of marker and features, inputs.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> means = [1.0, 1.2, 0.9, 1.1, 1.3, 0.8, 2.0, 2.2, 1.9, 2.1, 2.4, 1.8]
    >>> status = ["Wildtype"] * 6 + ["Mutant"] * 6
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean\\n" + "".join(
    ...     f"P{i},{m}\\n" for i, m in enumerate(means)))
    >>> _ = (folder / "clinical.csv").write_text("Case ID,EGFR mutation status\\n" + "".join(
    ...     f"P{i},{s}\\n" for i, s in enumerate(status)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> run = predict(kg, marker="EGFR", folds=2, repeats=1, permutations=9, select_k=None)
    >>> run.parameters["folds"], run.parameters["marker"]
    (2, 'EGFR mutation status')
    """

    run_id: str
    parameters: dict[str, Any]
    result: PredictionResult
    marker_iri: str | None
    feature_iris: dict[str, str]
    used: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``igkg predict --output``: the result (``auc``, ``auc_ci_low``, ``auc_ci_high``,
        ``permutation_p``, ``n`` ...) plus ``run_id`` and ``settings``.

        >>> import pathlib, tempfile
        >>> from kg import KnowledgeGraph
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> means = [1.0, 1.2, 0.9, 1.1, 1.3, 0.8, 2.0, 2.2, 1.9, 2.1, 2.4, 1.8]
        >>> status = ["Wildtype"] * 6 + ["Mutant"] * 6
        >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean\\n" + "".join(
        ...     f"P{i},{m}\\n" for i, m in enumerate(means)))
        >>> _ = (folder / "clinical.csv").write_text("Case ID,EGFR mutation status\\n" + "".join(
        ...     f"P{i},{s}\\n" for i, s in enumerate(status)))
        >>> kg = KnowledgeGraph(None)
        >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
        >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
        >>> run = predict(kg, marker="EGFR", folds=2, repeats=1, permutations=9, select_k=None)
        >>> found = run.to_dict()
        >>> found["auc"], found["n"], found["n_positive"], found["permutation_p"], found["run_id"] == run.run_id
        (1.0, 12, 6, 0.1, True)
        """
        return {**self.result.to_dict(), "run_id": self.run_id, "settings": self.parameters}


def _features(kg: object, cohort: str | None, harmonised: str | None) -> tuple[Any, str | None]:
    if harmonised is None:
        return imaging_features(kg, cohort=cohort), None
    run_id, features = harmonised_features(kg, None if harmonised == "latest" else harmonised, cohort=cohort)
    return features, run_id


def predict(
    kg: object,
    *,
    marker: str,
    model: str = "logistic",
    covariates: Sequence[str] = (),
    harmonise_batch: str | None = None,
    folds: int = 5,
    repeats: int = 10,
    permutations: int = 200,
    seed: int = 0,
    cohort: str | None = None,
    validate_cohort: str | None = None,
    harmonised: str | None = None,
    select_k: int | None = 10,
) -> PredictionRun:
    """Cross-validated prediction of ``marker`` (label or gene) from the cohort's features.

    ``harmonise_batch`` names the batch variable of ComBat inside the folds; ``harmonised``
    (``"latest"`` or a run id) reads a stored harmonised matrix instead; ``validate_cohort``:
    train on ``cohort``, test on that one. ``n`` = subjects with features and a known status.

    :raises AssociationError: an unknown marker or variable, no features.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> means = [1.0, 1.2, 0.9, 1.1, 1.3, 0.8, 2.0, 2.2, 1.9, 2.1, 2.4, 1.8]
    >>> status = ["Wildtype"] * 6 + ["Mutant"] * 6
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean\\n" + "".join(
    ...     f"P{i},{m}\\n" for i, m in enumerate(means)))
    >>> _ = (folder / "clinical.csv").write_text("Case ID,EGFR mutation status\\n" + "".join(
    ...     f"P{i},{s}\\n" for i, s in enumerate(status)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> run = predict(kg, marker="EGFR", folds=2, repeats=1, permutations=9, select_k=None)
    >>> run.result.auc, run.result.features_used  # the marker splits the feature: AUC 1
    (1.0, ('original_firstorder_Mean',))
    >>> predict(kg, marker="KRAS")
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: no marker 'KRAS' in the store; markers: EGFR mutation status
    """
    features, harmonised_run = _features(kg, cohort, harmonised)
    targets = marker_targets(kg, [marker])
    label = str(targets.targets.columns[0])
    y = targets.targets[label]
    names = [*covariates, *([harmonise_batch] if harmonise_batch else [])]
    variables, var_graphs = subject_table(kg, names) if names else (None, [])
    x = features.features
    options: dict[str, Any] = {}
    external = None
    if validate_cohort:
        other, _ = _features(kg, validate_cohort, harmonised)
        ext = other.features.reindex(columns=x.columns)
        train = x.index.difference(ext.index)
        external = (ext, y.reindex(ext.index))
        x = x.loc[train]
    batch = variables[harmonise_batch].astype(object) if variables is not None and harmonise_batch else None
    cov = variables[list(covariates)] if variables is not None and covariates else None
    x = x.dropna(axis=1)
    if external is not None:
        external = (external[0][x.columns], external[1])
    result = predict_marker(
        x, y.reindex(x.index), model=model,  # type: ignore[arg-type]
        covariates=cov, harmonise_batch=batch, harmonise_options=options or None,
        folds=folds, repeats=repeats, permutations=permutations, seed=seed, external=external, select_k=select_k,
    )
    used = sorted(set(features.graphs) | set(targets.graphs) | set(var_graphs))
    used += used_files(kg, used, ("radiomics", "radiomics-harmonised", "clinical", "markers"))
    parameters: dict[str, Any] = {
        "marker": label, "model": model, "covariates": list(covariates), "harmonise_batch": harmonise_batch,
        "folds": folds, "repeats": repeats, "permutations": permutations, "seed": seed, "cohort": cohort,
        "validate_cohort": validate_cohort, "harmonised": harmonised_run, "select_k": select_k,
        "ci_method": result.ci_method, "validation": result.validation,
    }
    return PredictionRun(
        run_id=run_identifier(parameters, used), parameters=parameters, result=result,
        marker_iri=targets.target_iris.get(label), feature_iris=dict(features.feature_iris), used=used,
        notes=list(features.notes) + list(targets.notes),
    )


def write_prediction(kg: object, run: PredictionRun) -> object:
    """Store the run (graph ``prediction/<run id>``): its activity and its result node.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> means = [1.0, 1.2, 0.9, 1.1, 1.3, 0.8, 2.0, 2.2, 1.9, 2.1, 2.4, 1.8]
    >>> status = ["Wildtype"] * 6 + ["Mutant"] * 6
    >>> _ = (folder / "features.csv").write_text("Case ID,original_firstorder_Mean\\n" + "".join(
    ...     f"P{i},{m}\\n" for i, m in enumerate(means)))
    >>> _ = (folder / "clinical.csv").write_text("Case ID,EGFR mutation status\\n" + "".join(
    ...     f"P{i},{s}\\n" for i, s in enumerate(status)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "features.csv", kind="radiomics-csv")
    >>> _ = kg.load(folder / "clinical.csv", kind="clinical")
    >>> run = predict(kg, marker="EGFR", folds=2, repeats=1, permutations=9, select_k=None)
    >>> write_prediction(kg, run).skipped
    False
    >>> kg.query("SELECT ?id WHERE { ?r a igkg:PredictionRun ; igkg:settingsHash ?id }")["id"].tolist() == [run.run_id]
    True
    """
    node = run_node(RUN_KIND, run.run_id)
    base = Settings.from_env().base
    r = run.result
    triples = activity_triples(node, IGKG.PredictionRun, f"igkg predict --marker {run.parameters['marker']} run {run.run_id}",
                               run.run_id, run.parameters, run.used)
    result = mint(base, "prediction", run.run_id)
    triples += [
        (result, RDF.type, IGKG.PredictionResult),
        (result, RDFS.label, Literal(f"{r.model} prediction of {run.parameters['marker']}: AUC {r.auc:.3f} "
                                     f"({r.auc_ci_low:.3f}-{r.auc_ci_high:.3f})")),
        (result, PROV.wasGeneratedBy, node),
        (result, IGKG.auc, double(r.auc)),
        (result, IGKG.aucCiLow, double(r.auc_ci_low)),
        (result, IGKG.aucCiHigh, double(r.auc_ci_high)),
        (result, IGKG.sampleSize, Literal(int(r.n), datatype=XSD.integer)),
        (result, IGKG.modelName, Literal(r.model)),
        (result, IGKG.validation, Literal(r.validation or f"{r.repeats} x {r.folds}-fold stratified CV")),
    ]
    if r.permutation_p is not None:
        triples.append((result, IGKG.permutationP, double(r.permutation_p)))
    if run.marker_iri:
        triples.append((result, IGKG.predictedMarker, URIRef(run.marker_iri)))
    for name in r.features_used:
        iri = run.feature_iris.get(name)
        if iri:
            triples.append((result, IGKG.modelFeature, URIRef(iri)))
    if run.parameters.get("cohort"):
        triples.append((result, IGKG.cohort, mint(base, "cohort", str(run.parameters["cohort"]).strip())))
    return store_run(kg, f"prediction/{run.run_id}", triples, kind=RUN_KIND, node=node, parameters=run.parameters, used=run.used)
