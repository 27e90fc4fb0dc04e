"""Feature reliability: per-feature ICC over a replicate column, as a run stored on the features.

:func:`feature_icc` reads the cohort's radiomic matrix with its replicate level (loaded with
``igkg load TABLE --kind radiomics-csv --replicate-column NAME``) and computes ICC(A,1) or
ICC(C,1) with its 95% CI (:func:`kg.analysis.stats.icc.icc`, McGraw and Wong). A stored run
(:func:`write_reliability`) is an ``igkg:ReliabilityRun`` with one ``igkg:FeatureReliability``
node per feature x cohort x run (icc, CI, n, type) linked to the feature and the run;
:func:`latest_icc` gives the ICCs of the latest run for a cohort (``associate --min-icc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

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
from kg.analysis.stats.icc import icc
from kg.core.errors import AssociationError
from kg.core.iris import mint
from kg.core.namespaces import IGKG, PROV
from kg.core.settings import Settings

__all__ = ["ICC_OUTPUT_COLUMNS", "RUN_KIND", "ReliabilityRun", "feature_icc", "icc_filter", "latest_icc", "write_reliability"]

RUN_KIND = "reliability-run"
"""Catalog kind of a stored ICC run."""
ICC_OUTPUT_COLUMNS = ["feature", "icc", "ci_low", "ci_high", "n"]
"""Columns of ``igkg icc --output``."""


@dataclass
class ReliabilityRun:
    """One ICC run: id, parameters, the table (:data:`ICC_OUTPUT_COLUMNS`), feature IRIs, inputs.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "retest.csv"
    >>> _ = table.write_text("Case ID,Scan,original_firstorder_Mean\\nP1,1,1.0\\nP1,2,1.1\\nP2,1,2.0\\nP2,2,2.2\\n"
    ...                      "P3,1,3.1\\nP3,2,2.9\\nP4,1,4.0\\nP4,2,4.1\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv", replicate_column="Scan")
    >>> run = feature_icc(kg, replicate_column="Scan")
    >>> run.parameters["type"], list(run.feature_iris)
    ('agreement', ['original_firstorder_Mean'])
    """

    run_id: str
    parameters: dict[str, object]
    table: pd.DataFrame
    feature_iris: dict[str, str]
    used: list[str]
    notes: list[str] = field(default_factory=list)


def feature_icc(kg: object, *, replicate_column: str, kind: str = "agreement", cohort: str | None = None) -> ReliabilityRun:
    """ICC of every feature of the cohort over the replicates loaded from ``replicate_column``.

    :raises AssociationError: no matrix loaded with that replicate column, ``kind`` not agreement or consistency.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "retest.csv"
    >>> _ = table.write_text("Case ID,Scan,original_firstorder_Mean\\nP1,1,1.0\\nP1,2,1.1\\nP2,1,2.0\\nP2,2,2.2\\n"
    ...                      "P3,1,3.1\\nP3,2,2.9\\nP4,1,4.0\\nP4,2,4.1\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv", replicate_column="Scan")
    >>> row = feature_icc(kg, replicate_column="Scan").table.iloc[0]  # pingouin ICC(A,1): 0.992378
    >>> row["feature"], float(round(row["icc"], 6)), int(row["n"])
    ('original_firstorder_Mean', 0.992378, 4)
    >>> feature_icc(KnowledgeGraph(None), replicate_column="Scan")
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: no radiomic matrix with replicates from column 'Scan'; ...
    """
    if kind not in ("agreement", "consistency"):
        raise AssociationError(f"--type is agreement or consistency, not {kind!r}")
    members = cohort_members(kg, cohort)
    plane = kg.data_plane  # type: ignore[attr-defined]
    files = [f for f in kg.matrix_files(kind="radiomics") if "replicate" in plane.info(f).keys]  # type: ignore[attr-defined]
    if not files:
        raise AssociationError(
            f"no radiomic matrix with replicates from column {replicate_column!r}; load one with "
            f"'igkg load TABLE --kind radiomics-csv --replicate-column {replicate_column!r}'"
        )
    frame = plane.matrix(files, subjects=members)
    frame.columns = [str(c) for c in frame.columns]
    iris: dict[str, str] = {}
    for file in files:
        iris.update(plane.column_map(file))
    owner = kg.matrix_graphs(kind="radiomics")  # type: ignore[attr-defined]
    used = sorted({owner[f.path] for f in files if f.path in owner})
    used += used_files(kg, used, ("radiomics",))
    wide = frame.reset_index()
    keep = [c for c in wide.columns if c in ("subject", "replicate") or pd.api.types.is_numeric_dtype(wide[c])]
    wide = wide[keep]
    features = [c for c in wide.columns if c not in ("subject", "replicate", "roi")]
    table = icc(wide, subject="subject", replicate="replicate", features=features, kind=kind)  # type: ignore[arg-type]
    parameters: dict[str, object] = {
        "method": str(table.attrs.get("method", f"ICC({'A' if kind == 'agreement' else 'C'},1), McGraw and Wong 1996")),
        "type": kind, "replicate_column": replicate_column, "cohort": cohort, "confidence": 0.95,
        "n_features": len(features),
    }
    return ReliabilityRun(run_identifier(parameters, used), parameters, table[ICC_OUTPUT_COLUMNS], iris, used)


def write_reliability(kg: object, run: ReliabilityRun) -> object:
    """Store the run (graph ``reliability/<run id>``) with one node per feature and its table.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "retest.csv"
    >>> _ = table.write_text("Case ID,Scan,original_firstorder_Mean\\nP1,1,1.0\\nP1,2,1.1\\nP2,1,2.0\\nP2,2,2.2\\n"
    ...                      "P3,1,3.1\\nP3,2,2.9\\nP4,1,4.0\\nP4,2,4.1\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv", replicate_column="Scan")
    >>> report = write_reliability(kg, feature_icc(kg, replicate_column="Scan"))
    >>> report.skipped, len(kg.matrix_files())
    (False, 2)
    """
    base = Settings.from_env().base
    node = run_node(RUN_KIND, run.run_id)
    triples = activity_triples(node, IGKG.ReliabilityRun, f"igkg icc --type {run.parameters['type']} run {run.run_id}",
                               run.run_id, run.parameters, run.used)
    cohort = run.parameters.get("cohort")
    cohort_node = mint(base, "cohort", str(cohort).strip()) if cohort else None
    if cohort_node is not None:
        triples.append((node, IGKG.cohort, cohort_node))
    for row in run.table.itertuples(index=False):
        iri = run.feature_iris.get(str(row.feature))
        if not iri or pd.isna(row.icc):
            continue
        est = mint(base, "feature-reliability", run.run_id, str(row.feature))
        triples += [
            (est, RDF.type, IGKG.FeatureReliability),
            (est, IGKG.ratedFeature, URIRef(iri)),
            (est, IGKG.icc, double(row.icc)),
            (est, IGKG.ciLow, double(row.ci_low)),
            (est, IGKG.ciHigh, double(row.ci_high)),
            (est, IGKG.sampleSize, Literal(int(row.n), datatype=XSD.integer)),
            (est, IGKG.iccType, Literal(str(run.parameters["type"]))),
            (est, PROV.wasGeneratedBy, node),
        ]
        if cohort_node is not None:
            triples.append((est, IGKG.cohort, cohort_node))
    table = run.table.copy()
    table.insert(0, "subject", table["feature"].astype(str))
    table["iri"] = [run.feature_iris.get(str(f), "") for f in table["feature"]]
    return store_run(kg, f"reliability/{run.run_id}", triples, kind=RUN_KIND, node=node, parameters=run.parameters,
                     used=run.used, tables={"icc": ("feature-reliability", table)})


def latest_icc(kg: object, *, cohort: str | None = None) -> tuple[str, pd.DataFrame, str]:
    """The ICCs of the latest ICC run for ``cohort`` (``feature``, ``iri``, ``icc``), its run id and
    a note. Without a run for that cohort (or without a cohort) the latest run of any cohort is
    used (a test-retest study measured apart from the analysed cohort), and the note says so.

    :raises AssociationError: no ICC run in the store.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "retest.csv"
    >>> _ = table.write_text("Case ID,Scan,original_firstorder_Mean\\nP1,1,1.0\\nP1,2,1.1\\nP2,1,2.0\\nP2,2,2.2\\n"
    ...                      "P3,1,3.1\\nP3,2,2.9\\nP4,1,4.0\\nP4,2,4.1\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv", replicate_column="Scan")
    >>> run = feature_icc(kg, replicate_column="Scan")
    >>> _ = write_reliability(kg, run)
    >>> run_id, iccs, note = latest_icc(kg)
    >>> run_id == run.run_id, list(iccs.columns), note == f"ICCs of the latest ICC run {run.run_id}"
    (True, ['feature', 'iri', 'icc'], True)
    """
    run_id = None
    note = ""
    if cohort:
        where = f"?run igkg:cohort <{mint(Settings.from_env().base, 'cohort', cohort.strip())}> ."
        run_id = latest_run(kg, IGKG.ReliabilityRun, where=where)
        if run_id is None:
            note = f"no ICC run for cohort {cohort!r}: "
    if run_id is None:
        run_id = latest_run(kg, IGKG.ReliabilityRun)
        if run_id is None:
            raise AssociationError("no ICC run in the store; run 'igkg icc --replicate-column NAME' first")
        note += f"ICCs of the latest ICC run {run_id}"
    else:
        note = f"ICCs of ICC run {run_id} for cohort {cohort!r}"
    files = [f for f in kg.matrix_files(kind="feature-reliability") if f.source_key == f"reliability/{run_id}"]  # type: ignore[attr-defined]
    table = kg.data_plane.matrix(files).reset_index(drop=True)  # type: ignore[attr-defined]
    out = pd.DataFrame({
        "feature": table["feature"].astype(str).to_numpy(),
        "iri": table["iri"].astype(str).to_numpy() if "iri" in table else "",
        "icc": table["icc"].to_numpy(dtype=float),
    })
    return run_id, out, note


def icc_filter(features: pd.DataFrame, feature_iris: dict[str, str], iccs: pd.DataFrame, min_icc: float) -> list[str]:
    """The features (columns as loaded) whose ICC is at least ``min_icc``: matched by feature node
    (so an IBSI-named test-retest study rates the pyradiomics columns of the same feature), else by
    name; a feature rated several times (several settings) counts with its lowest ICC; an unrated
    feature is left out.

    >>> iccs = pd.DataFrame({"feature": ["Fstat.mean", "b"], "iri": ["urn:mean", ""], "icc": [0.95, 0.3]})
    >>> icc_filter(pd.DataFrame(columns=["original_firstorder_Mean", "b", "c"]), {"original_firstorder_Mean": "urn:mean"}, iccs, 0.9)
    ['original_firstorder_Mean']
    """
    by_iri = iccs[iccs["iri"].astype(bool)].groupby("iri")["icc"].min()
    by_name = iccs.groupby("feature")["icc"].min()
    keep = []
    for name in features.columns:
        iri = feature_iris.get(str(name), "")
        value = by_iri.get(iri) if iri in by_iri.index else by_name.get(str(name))
        if value is not None and pd.notna(value) and float(value) >= min_icc:
            keep.append(str(name))
    return keep
