"""One association analysis run: choose the method, read the inputs, run the kernels, describe it."""

from __future__ import annotations

from collections.abc import Sequence

from kg.analysis.associations.adjusted import ADJUSTED_METHODS, REGRESSION_METHODS, adjusted_associate, method_spec
from kg.analysis.associations.distributed import associate_tiled, connect, scheduler_address
from kg.analysis.associations.inputs import (
    expression_targets,
    imaging_features,
    marker_targets,
    pathway_targets,
)
from kg.analysis.associations.kernels import METHODS, associate
from kg.analysis.associations.provenance import file_fingerprint, run_identifier
from kg.analysis.associations.records import AssociationRun
from kg.core.errors import AssociationError

__all__ = ["default_method", "run_analysis"]


def default_method(kind: str, *, traits: bool = False) -> str:
    """The method used when none is given: Mann-Whitney for markers, Spearman otherwise.

    >>> default_method("marker"), default_method("genes")
    ('mannwhitney', 'spearman')
    """
    return "mannwhitney" if kind == "marker" else "spearman"


def run_analysis(
    kg: object,
    *,
    markers: Sequence[str] = (),
    genes: bool = False,
    pathways: str | None = None,
    method: str | None = None,
    min_n: int = 10,
    q_max: float = 0.05,
    cohort: str | None = None,
    traits: bool = False,
    marker_source: str | None = None,
    only_significant: bool = False,
    min_genes: int = 3,
    scheduler: str | None = None,
    covariates: Sequence[str] = (),
    min_icc: float | None = None,
    harmonised: str | None = None,
) -> AssociationRun:
    """Read features and targets from the store, run the engine and describe the run.

    Exactly one of ``markers``, ``genes`` or ``pathways`` (a GMT path, or ``"graph"`` for the
    store's gene sets) says what the targets are. Nothing is written; see ``write_run``.

    The engine runs over tiles of features x targets (``distributed.associate_tiled``), here or,
    with ``scheduler`` (or ``IGKG_DASK_SCHEDULER``), on that dask.distributed cluster: the same
    tiles, so exactly the same numbers; BH-FDR over all tests. ``only_significant`` without a
    scheduler takes the engine's one-pass path (p-values only for pairs that can pass).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.run import run_analysis
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> run.results[["statistic", "effect_size", "p", "n"]].values.tolist()   # U, AUC, exact p (2/70)
    [[0.0, 0.0, 0.028571428571428..., 8.0]]
    >>> run_analysis(kg)
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: give exactly one of --marker, --genes or --pathways
    """
    chosen = [bool(markers), bool(genes), bool(pathways)]
    if sum(chosen) != 1:
        raise AssociationError("give exactly one of --marker, --genes or --pathways")
    kind = "marker" if markers else "genes" if genes else "pathways"
    method = method or default_method(kind, traits=traits)
    covariates = [c.strip() for c in covariates if c.strip()]
    if method in REGRESSION_METHODS or covariates:
        if method not in ADJUSTED_METHODS:
            raise AssociationError(f"--covariates need --method linear, logistic or spearman, not {method}")
        if method == "logistic" and kind != "marker":
            raise AssociationError("logistic models a binary marker: use it with --marker (linear or spearman for genes and pathways)")
    elif method not in METHODS:
        raise AssociationError(f"unknown method {method!r}; one of {', '.join([*METHODS, *REGRESSION_METHODS])}")
    if method in ADJUSTED_METHODS and (method in REGRESSION_METHODS or covariates):
        pass
    elif kind == "marker" and METHODS[method].target != "binary":
        raise AssociationError(f"a marker is binary: use --method mannwhitney or pointbiserial, not {method}")
    if kind != "marker" and METHODS[method].target == "binary":
        raise AssociationError(f"{method} needs a binary marker; for genes and pathways use spearman, pearson or kruskal")
    harmonised_run = None
    if harmonised is not None:
        from kg.analysis.radiogenomics.harmonise import harmonised_features

        harmonised_run, features = harmonised_features(kg, None if harmonised == "latest" else harmonised, cohort=cohort)
    else:
        features = imaging_features(kg, cohort=cohort, traits=traits or method == "kruskal", ordinal=method != "kruskal")
    icc_run = None
    if min_icc is not None:
        from kg.analysis.radiogenomics.reliability import icc_filter, latest_icc

        icc_run, iccs, icc_note = latest_icc(kg, cohort=cohort)
        keep = icc_filter(features.features, features.feature_iris, iccs, min_icc)
        dropped = features.features.shape[1] - len(keep)
        if not keep:
            raise AssociationError(f"no feature has ICC >= {min_icc} ({icc_note})")
        features.features = features.features[keep]
        owner = kg.matrix_graphs(kind="feature-reliability")
        icc_graphs = {owner[f.path] for f in kg.matrix_files(kind="feature-reliability")
                      if f.source_key == f"reliability/{icc_run}" and f.path in owner}
        features.graphs = sorted({*features.graphs, *icc_graphs})  # the ICC run is an input: prov:used
        features.notes.append(f"--min-icc {min_icc}: kept {len(keep)} feature(s), dropped {dropped} ({icc_note}; unrated features dropped)")
    if kind == "marker":
        targets = marker_targets(kg, markers, source=marker_source)
    else:
        targets = expression_targets(kg)
        if kind == "pathways":
            targets = pathway_targets(kg, targets, None if pathways == "graph" else pathways, min_genes=min_genes)
    covariate_table = None
    if covariates:
        from kg.analysis.radiogenomics.variables import subject_table

        covariate_table, covariate_graphs = subject_table(kg, covariates, subjects=list(features.features.index))
        features.graphs = sorted({*features.graphs, *covariate_graphs})
    address = scheduler_address(scheduler)
    if method in REGRESSION_METHODS or covariates:
        results = adjusted_associate(features.features, targets.targets, method=method, covariates=covariate_table, min_n=min_n)
    elif address is not None:
        client = connect(address)
        try:
            results = associate_tiled(features.features, targets.targets, method=method, min_n=min_n, q_max=q_max,
                                      only_significant=only_significant, client=client)
        finally:
            client.close()
    elif only_significant:
        results = associate(features.features, targets.targets, method=method, min_n=min_n, q_max=q_max, only_significant=True)
    else:
        results = associate_tiled(features.features, targets.targets, method=method, min_n=min_n, q_max=q_max)
    used = sorted(set(features.graphs) | set(targets.graphs))
    parameters: dict[str, object] = {
        "method": method,
        "stato": str(method_spec(method).stato),
        "targets": kind,
        "markers": list(markers),
        "pathways": file_fingerprint(pathways) if pathways and pathways != "graph" else pathways,
        "min_n": int(min_n),
        "q_max": float(q_max),
        "cohort": cohort,
        "traits": traits,
        "marker_source": marker_source,
        "correction": "Benjamini-Hochberg and Bonferroni over all tests of the run",
        "min_genes": min_genes if kind == "pathways" else None,
    }
    if method in REGRESSION_METHODS or covariates or min_icc is not None or harmonised is not None:
        parameters.update({
            "covariates": covariates,
            "min_icc": min_icc,
            "icc_run": icc_run,
            "harmonised": harmonised_run,
            "model": str(results["model"].dropna().iloc[0]) if "model" in results and results["model"].notna().any() else None,
            "test": str(results["test"].dropna().iloc[0]) if "test" in results and results["test"].notna().any() else None,
            "correction": "Benjamini-Hochberg and Bonferroni over all tests of the run with a p-value",
            "not_converged": int((~results["converged"].astype(bool)).sum()) if "converged" in results else 0,
        })
    notes = features.notes + targets.notes
    if results.attrs.get("single_valued_targets"):
        notes.append(f"not tested (one value only): {', '.join(results.attrs['single_valued_targets'])}")
    return AssociationRun(
        run_id=run_identifier(parameters, used),
        parameters=parameters,
        results=results,
        feature_iris=features.feature_iris,
        target_iris=targets.target_iris,
        used=used,
        notes=notes,
        conflicts=targets.conflicts,
    )
