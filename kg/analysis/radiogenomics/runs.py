"""The provenance shared by every radiogenomic run: a ``prov:Activity`` with its parameters,
software versions, the graphs and data-plane files it used, stored as its own source graph."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.analysis.associations.provenance import run_identifier
from kg.core.errors import AssociationError, StoreError
from kg.core.iris import mint
from kg.core.namespaces import IGKG, PROV
from kg.core.settings import Settings
from kg.core.version import __version__
from kg.store.matrices import MATRIX_FILES_QUERY

__all__ = ["PACKAGES", "activity_triples", "cohort_members", "double", "latest_run", "run_identifier", "run_node", "store_run", "used_files"]

PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "statsmodels")
"""Packages whose versions a run records (those installed)."""


def cohort_members(kg: object, cohort: str | None) -> list[str] | None:
    """The subject IRIs of a cohort (label or IRI), ``None`` for no cohort.

    :raises AssociationError: no such cohort.

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> cohort_members(kg, None) is None
    True
    >>> cohort_members(kg, "nobody")
    Traceback (most recent call last):
    ...
    kg.core.errors.AssociationError: no subjects in cohort 'nobody'; cohorts in the store: none
    """
    if not cohort:
        return None
    try:
        return kg.cohort_subjects(cohort)  # type: ignore[attr-defined]
    except StoreError as exc:
        raise AssociationError(str(exc)) from None


def run_node(kind: str, run_id: str) -> URIRef:
    """The IRI of a run: ``<base>/<kind>/<run id>``.

    >>> str(run_node("harmonisation-run", "abc")).endswith("/harmonisation-run/abc")
    True
    """
    return mint(Settings.from_env().base, kind, run_id)


def double(value: float) -> Literal:
    """An ``xsd:double`` literal (``repr`` of the float).

    >>> double(0.5)
    rdflib.term.Literal('0.5', datatype=rdflib.term.URIRef('http://www.w3.org/2001/XMLSchema#double'))
    """
    return Literal(repr(float(value)), datatype=XSD.double)


def activity_triples(
    node: URIRef,
    rdf_class: URIRef,
    label: str,
    run_id: str,
    parameters: Mapping[str, Any],
    used: Sequence[str],
) -> list[tuple[Any, Any, Any]]:
    """A run's ``prov:Activity``: class, label, parameters (JSON), settings hash, software
    versions, ``prov:used`` for every input graph or data-plane file, ``prov:endedAtTime``.

    >>> triples = activity_triples(URIRef("urn:x:run"), IGKG.HarmonisationRun, "run", "abc", {"batch": "site"}, ["urn:x:g"])
    >>> (URIRef("urn:x:run"), PROV.used, URIRef("urn:x:g")) in triples
    True
    """
    triples: list[tuple[Any, Any, Any]] = [
        (node, RDF.type, rdf_class),
        (node, RDF.type, PROV.Activity),
        (node, RDFS.label, Literal(label)),
        (node, IGKG.parameters, Literal(json.dumps(dict(parameters), sort_keys=True, default=str))),
        (node, IGKG.settingsHash, Literal(run_id)),
        (node, PROV.endedAtTime, Literal(datetime.now(UTC).isoformat(), datatype=XSD.dateTime)),
        (node, IGKG.softwareVersion, Literal(f"igkg {__version__}")),
    ]
    for package in PACKAGES:
        try:
            triples.append((node, IGKG.softwareVersion, Literal(f"{package} {metadata.version(package)}")))
        except metadata.PackageNotFoundError:
            continue
    triples += [(node, PROV.used, URIRef(u)) for u in used]
    return triples


def used_files(kg: object, graphs: Sequence[str], kinds: Sequence[str]) -> list[str]:
    """The data-plane files (DCAT distributions) of ``kinds`` that the source graphs ``graphs`` hold:
    what a run read, each pinned by its graph version and checksum in the catalog.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,original_firstorder_Mean\\nP1,1.5\\nP2,2.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> graphs = list(kg.matrix_graphs().values())
    >>> [iri.rsplit("#", 1)[1] for iri in used_files(kg, graphs, ["radiomics"])], used_files(kg, graphs, ["expression"])
    (['matrix-features'], [])
    """
    frame = kg.query(MATRIX_FILES_QUERY)  # type: ignore[attr-defined]
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return []
    wanted = set(graphs)
    rows = frame[frame["graph"].astype(str).isin(wanted) & frame["kind"].astype(str).isin(set(kinds))]
    return sorted(set(rows["distribution"].astype(str)))


def store_run(
    kg: object,
    key: str,
    triples: list[tuple[Any, Any, Any]],
    *,
    kind: str,
    node: URIRef,
    parameters: Mapping[str, Any],
    used: Sequence[str],
    tables: Mapping[str, tuple[Any, ...]] | None = None,
) -> object:
    """Store a run as the source graph ``key`` with its tables in the data plane (made by ``node``).

    :raises StoreError: the store is open read-only.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,original_firstorder_Mean\\nP1,1.5\\nP2,2.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> graphs = list(kg.matrix_graphs().values())
    >>> node = URIRef("urn:example:run")
    >>> triples = activity_triples(node, IGKG.HarmonisationRun, "demo run", "abc", {"batch": "site"}, graphs)
    >>> frame = pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [0.5, -0.5]})
    >>> report = store_run(kg, "harmonisation/abc", triples, kind="harmonisation-run", node=node,
    ...                    parameters={"batch": "site"}, used=graphs, tables={"harmonised": ("radiomics", frame)})
    >>> report.skipped, len(kg.matrix_files(kind="radiomics"))
    (False, 2)
    """
    return kg.ingest(  # type: ignore[attr-defined]
        key, triples, kind=kind, parameters=dict(parameters), used=list(used),
        tables=dict(tables) if tables else None, generated_by=str(node),
    )


def latest_run(kg: object, rdf_class: URIRef, *, where: str = "") -> str | None:
    """The id (settings hash) of the most recent stored run of ``rdf_class`` (``where``: more
    SPARQL patterns on ``?run``), or ``None``.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,original_firstorder_Mean\\nP1,1.5\\nP2,2.5\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> graphs = list(kg.matrix_graphs().values())
    >>> latest_run(kg, IGKG.HarmonisationRun) is None
    True
    >>> node = URIRef("urn:example:run")
    >>> triples = activity_triples(node, IGKG.HarmonisationRun, "demo run", "abc", {"batch": "site"}, graphs)
    >>> frame = pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [0.5, -0.5]})
    >>> report = store_run(kg, "harmonisation/abc", triples, kind="harmonisation-run", node=node,
    ...                    parameters={"batch": "site"}, used=graphs, tables={"harmonised": ("radiomics", frame)})
    >>> latest_run(kg, IGKG.HarmonisationRun)
    'abc'
    """
    frame = kg.query(  # type: ignore[attr-defined]
        f"SELECT ?id ?t WHERE {{ ?run a <{rdf_class}> ; igkg:settingsHash ?id ; prov:endedAtTime ?t . {where} }} "
        "ORDER BY DESC(?t) LIMIT 1"
    )
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return None
    return str(frame.iloc[0]["id"])
