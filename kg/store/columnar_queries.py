"""Named queries that read measured values, answered from the data plane when the graph lacks them.

A source loaded with ``--values columnar`` keeps its entities in the graph and its values in
Parquet only. For the named queries that read values (``subjects_by_feature_and_marker``)
the answer is then joined: the entities (subjects, feature, marker statuses and their
sources) by SPARQL, the values of the columnar sources by DuckDB over their matrix files,
the values still in the graph (sources loaded ``rdf`` or ``both``) by the query itself.
The rows are the query's own columns, in its order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from kg.core.namespaces import CATALOG_GRAPH
from kg.query.named import get_query

__all__ = ["COLUMNAR_QUERIES", "COLUMNAR_SOURCES_QUERY", "ColumnarQuery", "answer", "columnar_graphs", "combine"]

logger = logging.getLogger(__name__)

COLUMNAR_SOURCES_QUERY = f"""SELECT ?graph ?parameters WHERE {{ GRAPH <{CATALOG_GRAPH}> {{
  ?graph a igkg:SourceGraph ; prov:wasGeneratedBy ?load . ?load igkg:parameters ?parameters .
}} }}"""
"""Every catalogued source with its load parameters (``values`` among them)."""


@dataclass(frozen=True)
class ColumnarQuery:
    """How a named query is answered with values from the data plane.

    ``drop`` are the lines of the query's WHERE group that read or filter values (removed to
    get the entity query); ``kind`` the matrix kind; ``variable`` / ``value`` the entity-query
    column naming the variable and the result column of the value; ``low`` / ``high`` the
    parameters bounding it.

    >>> spec = COLUMNAR_QUERIES["subjects_by_feature_and_marker"]
    >>> spec.kind, spec.variable, spec.value, spec.low, spec.high
    ('radiomics', 'feature_name', 'value', 'value_min', 'value_max')
    """

    name: str
    drop: tuple[str, ...]
    kind: str
    variable: str
    value: str
    low: str
    high: str
    order: tuple[str, ...]

    def entity_query(self) -> str:
        """The named query's text without its value patterns, selecting every entity column.

        :raises RuntimeError: the ``.rq`` file no longer has a line of ``drop``.

        >>> from dataclasses import replace
        >>> spec = COLUMNAR_QUERIES["subjects_by_feature_and_marker"]
        >>> text = spec.entity_query()
        >>> "SELECT DISTINCT" in text, "?feature_iri" in text, "igkg:value ?value" in text
        (True, True, False)
        >>> replace(spec, drop=("  FILTER (?nothing)\\n",)).entity_query()
        Traceback (most recent call last):
        ...
        RuntimeError: subjects_by_feature_and_marker.rq no longer has the line '  FILTER (?nothing)\\n'; update kg.store.columnar_queries
        """
        text = get_query(self.name).sparql
        for line in self.drop:
            if line not in text:
                raise RuntimeError(f"{self.name}.rq no longer has the line {line!r}; update kg.store.columnar_queries")
            text = text.replace(line, "")
        head, sep, rest = text.partition("WHERE")
        select = head[head.upper().index("SELECT"):]
        columns = [c for c in select.split() if c.startswith("?")]
        return head[: head.upper().index("SELECT")] + "SELECT DISTINCT " + " ".join(
            c for c in columns if c != "?" + self.value
        ) + " ?feature_iri\n" + sep + rest


COLUMNAR_QUERIES: dict[str, ColumnarQuery] = {
    "subjects_by_feature_and_marker": ColumnarQuery(
        name="subjects_by_feature_and_marker",
        drop=(
            "  ?measurement igkg:feature ?feature_iri ; igkg:subject ?subject ; igkg:value ?value .\n",
            "  FILTER (?value >= ?value_min && ?value <= ?value_max)\n",
        ),
        kind="radiomics",
        variable="feature_name",
        value="value",
        low="value_min",
        high="value_max",
        order=("subject_id", "status_source", "value"),
    ),
}
"""The named queries that read values, and how to answer them from the data plane."""


def columnar_graphs(catalog: pd.DataFrame) -> set[str]:
    """The source graphs loaded ``--values columnar`` (rows of :data:`COLUMNAR_SOURCES_QUERY`).

    >>> catalog = pd.DataFrame({"graph": ["urn:g1", "urn:g2", "urn:g3"],
    ...                         "parameters": ['{"values": "columnar"}', '{"values": "rdf"}', "not json"]})
    >>> columnar_graphs(catalog)
    {'urn:g1'}
    """
    chosen = set()
    for row in catalog.itertuples(index=False):
        try:
            if json.loads(str(row.parameters)).get("values") == "columnar":
                chosen.add(str(row.graph))
        except (ValueError, AttributeError):
            continue
    return chosen


def combine(
    spec: ColumnarQuery,
    params: Mapping[str, Any],
    plain: pd.DataFrame,
    entities: pd.DataFrame,
    read_values: Callable[[list[str], list[str]], pd.DataFrame],
) -> pd.DataFrame:
    """The rows of the graph (``plain``) and those of the columnar sources: ``entities`` joined
    with ``read_values(subjects, variables)`` (a long table: subject, variable, value), kept
    within the value bounds of ``params``; in the query's column order and sort.

    >>> spec = COLUMNAR_QUERIES["subjects_by_feature_and_marker"]
    >>> entities = pd.DataFrame({"subject_id": ["P1", "P2"], "status_source": "markers.csv", "feature_name": "mean",
    ...                          "subject": ["urn:s1", "urn:s2"], "feature_iri": "urn:f"})
    >>> def read_values(subjects, variables):
    ...     return pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "variable": "mean", "value": [1.5, 9.0]})
    >>> combine(spec, {"value_max": 5}, pd.DataFrame(), entities, read_values)[["subject_id", "value"]].to_dict("records")
    [{'subject_id': 'P1', 'value': 1.5}]
    """
    columns = list(plain.columns) if len(plain.columns) else [*entities.columns.drop("feature_iri", errors="ignore"), spec.value]
    frames = [plain] if not plain.empty else []
    if not entities.empty:
        subjects = sorted(set(entities["subject"].astype(str)))
        variables = sorted(set(entities[spec.variable].dropna().astype(str)))
        values = read_values(subjects, variables) if subjects and variables else pd.DataFrame()
        if not values.empty:
            values = values.rename(columns={"variable": spec.variable, "value": spec.value})[["subject", spec.variable, spec.value]]
            values[spec.value] = values[spec.value].astype(float)
            low = float(params.get(spec.low, -1e308))
            high = float(params.get(spec.high, 1e308))
            values = values[(values[spec.value] >= low) & (values[spec.value] <= high)]
            joined = entities.astype({"subject": str, spec.variable: str}).merge(values, on=["subject", spec.variable])
            frames.append(joined.reindex(columns=columns))
    if not frames:
        return plain.reindex(columns=columns)
    result = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    result = result.drop_duplicates()
    return result.sort_values(list(spec.order), kind="stable").reset_index(drop=True)


def answer(kg: Any, name: str, params: Mapping[str, Any]) -> pd.DataFrame | None:
    """The named query ``name`` with values from the data plane of ``kg``, or ``None`` when the
    query reads no values or no source of the store keeps its values only in the data plane.

    >>> from kg import KnowledgeGraph
    >>> kg = KnowledgeGraph(None)
    >>> answer(kg, "subjects_by_feature_and_marker", {}) is None  # no columnar source
    True
    >>> answer(kg, "genes_for_feature", {}) is None  # reads no values
    True
    """
    spec = COLUMNAR_QUERIES.get(name)
    if spec is None or kg.data_plane is None:
        return None
    catalog = kg.query(COLUMNAR_SOURCES_QUERY)
    graphs = columnar_graphs(catalog)
    owner = kg.matrix_graphs(kind=spec.kind)
    files = [f for f in kg.matrix_files(kind=spec.kind) if owner.get(f.path) in graphs]
    if not files:
        return None
    from kg.query.named import run_named_query

    plain = run_named_query(kg, name, params)
    rendered, bindings = replace(get_query(name), sparql=spec.entity_query()).render(params)
    entities = kg.query(rendered, bindings or None)
    plane = kg.data_plane

    def read_values(subjects: list[str], variables: list[str]) -> pd.DataFrame:
        return plane.values(files, subjects, variables)

    logger.info("%s: values of %d columnar matrix file(s) from the data plane", name, len(files))
    return combine(spec, params, plain, entities, read_values)
