"""The RDF of an association run: its ``prov:Activity`` and one ``RadiogenomicAssociation`` per
significant result, stored as the run's own source graph (kind ``association-run``)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.analysis.associations.adjusted import method_spec
from kg.analysis.associations.records import AssociationRun
from kg.core.errors import AssociationError
from kg.core.files import sha256
from kg.core.iris import mint
from kg.core.namespaces import IGKG, PROV
from kg.core.settings import Settings
from kg.core.version import __version__

__all__ = ["RESULTS_KIND", "RUN_KIND", "file_fingerprint", "read_results", "result_table", "run_identifier", "run_triples", "write_run"]

RUN_KIND = "association-run"
"""The catalog kind of a stored run (runs stored before this kind existed say ``associations``)."""

RESULTS_KIND = "association-results"
"""The data plane kind of a run's complete result table (one Parquet file per run, linked from
the run: ``prov:wasGeneratedBy`` the run's ``prov:Activity``)."""


def file_fingerprint(path: str) -> dict[str, str]:
    """A file as it counts for a run's identity: its name and SHA-256.

    >>> file_fingerprint(__file__)["file"]
    'provenance.py'
    """
    return {"file": Path(path).name, "sha256": sha256(path)}


def run_identifier(parameters: dict[str, object], used: Sequence[str]) -> str:
    """A run's id: a hash of its parameters and input graphs (other parameters, other run).

    >>> run_identifier({"method": "spearman"}, ["g1"]) == run_identifier({"method": "spearman"}, ["g1"])
    True
    >>> run_identifier({"method": "spearman"}, ["g1"]) == run_identifier({"method": "pearson"}, ["g1"])
    False
    """
    text = json.dumps({"parameters": parameters, "used": sorted(used)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_triples(run: AssociationRun, *, base: str | None = None) -> list[tuple[object, object, object]]:
    """The RDF of a run: its ``igkg:AnalysisRun`` activity and one ``RadiogenomicAssociation``
    per result with q <= q_max whose feature and target have IRIs.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.run import run_analysis
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> len(run_triples(run)) > 10
    True
    """
    base = base or Settings.from_env().base
    node = mint(base, "analysis-run", run.run_id)
    method = method_spec(str(run.parameters["method"]))
    triples: list[tuple[object, object, object]] = [
        (node, RDF.type, IGKG.AnalysisRun),
        (node, RDF.type, PROV.Activity),
        (node, RDFS.label, Literal(f"igkg associate {run.parameters['targets']} ({method.name}) run {run.run_id}")),
        (node, IGKG.parameters, Literal(json.dumps(run.parameters, sort_keys=True, default=str))),
        (node, IGKG.settingsHash, Literal(run.run_id)),
        (node, IGKG.methodName, Literal(method.name)),
    ]
    for package in ("numpy", "scipy", "pandas"):
        try:
            triples.append((node, IGKG.softwareVersion, Literal(f"{package} {metadata.version(package)}")))
        except metadata.PackageNotFoundError:
            continue
    triples.append((node, IGKG.softwareVersion, Literal(f"igkg {__version__}")))
    for graph in run.used:
        triples.append((node, PROV.used, URIRef(graph)))
    cohort = run.parameters.get("cohort")
    cohort_node = mint(base, "cohort", str(cohort).strip()) if cohort else None
    if cohort_node is not None:
        triples.append((node, IGKG.cohort, cohort_node))
    double = XSD.double
    for row in run.significant.itertuples(index=False):
        feature = run.feature_iris.get(str(row.feature)) or str(mint(base, "feature", str(row.feature)))
        target = run.target_iris.get(str(row.target))
        if not target:
            continue
        association = mint(base, "association", run.run_id, str(row.feature), str(row.target))
        triples += [
            (association, RDF.type, IGKG.RadiogenomicAssociation),
            (association, IGKG.feature, URIRef(feature)),
            (association, IGKG.target, URIRef(target)),
            (association, IGKG.method, method.stato),
            (association, IGKG.methodName, Literal(method.name)),
            (association, IGKG.sampleSize, Literal(int(row.n), datatype=XSD.integer)),
            (association, PROV.wasGeneratedBy, node),
        ]
        # a non-finite number (the infinite odds ratio of a separated fit) is no xsd:double: left out
        for predicate, value in ((IGKG.statistic, row.statistic), (IGKG.effectSize, row.effect_size),
                                 (IGKG.pValue, row.p), (IGKG.qValue, row.q), (IGKG.bonferroni, row.bonferroni)):
            if math.isfinite(float(value)):
                triples.append((association, predicate, Literal(repr(float(value)), datatype=double)))
        if cohort_node is not None:
            triples.append((association, IGKG.cohort, cohort_node))
    return triples


def result_table(run: AssociationRun) -> pd.DataFrame | None:
    """Every result of a run as one table for the data plane (``None`` when nothing was tested):
    a ``subject`` key ``<feature>\t<target>`` per test, the result columns as computed (columns
    with no value at all are left out).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.run import run_analysis
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> list(result_table(run).columns)[:3]
    ['subject', 'feature', 'target']
    """
    results = run.results
    if results.empty:
        return None
    table = results.reset_index(drop=True).copy()
    # an overflowing effect (an odds ratio of a separated logistic fit is inf) is not a value
    # the data plane stores: it is kept as missing, the statistic and p say what happened
    numeric = table.select_dtypes("number").columns
    table[numeric] = table[numeric].where(np.isfinite(table[numeric].astype(float)))
    table = table.loc[:, table.notna().any()]
    table.insert(0, "subject", table["feature"].astype(str) + "\t" + table["target"].astype(str))
    return table


def read_results(kg: object, run_id: str) -> pd.DataFrame:
    """The complete result table of a stored run, from the data plane (as ``result_table`` wrote it).

    :raises AssociationError: the store holds no result table for that run.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.run import run_analysis
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> _ = write_run(kg, run)
    >>> read_results(kg, run.run_id)[["feature", "p"]].values.tolist()
    [['original_firstorder_Mean', 0.028...]]
    """
    key = f"associations/{run_id}"
    files = [f for f in kg.matrix_files(kind=RESULTS_KIND) if f.source_key == key]  # type: ignore[attr-defined]
    if not files:
        raise AssociationError(f"no result table of run {run_id} in the store (runs stored before igkg kept them have none)")
    table = kg.data_plane.matrix(files)  # type: ignore[attr-defined]
    table = table.reset_index(drop=True)
    for column in table.columns:
        if isinstance(table[column].dtype, pd.CategoricalDtype):
            table[column] = table[column].astype(object)
    return table


def write_run(kg: object, run: AssociationRun) -> object:
    """Store a run as its own source graph ``associations/<run id>`` (with ``prov:used`` inputs).

    The same parameters over the same input graphs give the same run id and the same
    triples, so re-running is a no-op; other parameters give another run, beside it.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> from kg.analysis.associations.run import run_analysis
    >>> run = run_analysis(kg, markers=["EGFR"], q_max=1.0, min_n=5)
    >>> write_run(kg, run).triples > 0
    True
    """
    triples = run_triples(run)
    table = result_table(run)
    base = Settings.from_env().base
    report = kg.ingest(  # type: ignore[attr-defined]
        f"associations/{run.run_id}",
        triples,
        kind=RUN_KIND,
        parameters=run.parameters,
        used=run.used,
        tables={"results": (RESULTS_KIND, table)} if table is not None else None,
        generated_by=str(mint(base, "analysis-run", run.run_id)),
    )
    written = sum(1 for t in triples if str(t[2]).endswith("RadiogenomicAssociation"))
    skipped = len(run.significant) - written
    if skipped:
        report.note(f"{skipped} significant result(s) not written: their target has no IRI (unmapped gene id)")
    return report
