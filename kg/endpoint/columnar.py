"""``/api/queries/{name}`` for named queries that read values kept only in the columnar data plane.

The entity parts run as SPARQL on the query workers (as any named query); the values of the
sources loaded ``--values columnar`` are read here with DuckDB over their Parquet files
(``<store>/columnar``, or ``IGKG_COLUMNAR``); ``kg.store.columnar_queries.combine`` joins
them. Answers are SPARQL JSON or CSV, with the query's own columns.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Response

from kg.core.settings import Settings
from kg.dataplane import DataPlane
from kg.query.binding import bind_values
from kg.query.prefixes import with_prefixes
from kg.store.columnar_queries import COLUMNAR_QUERIES, COLUMNAR_SOURCES_QUERY, columnar_graphs, combine
from kg.store.matrices import COLUMNAR_FOLDER, MATRIX_FILES_QUERY, records_from_frame

__all__ = ["columnar_answer", "plane_root"]

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"


def plane_root(location: str) -> Path | None:
    """The data plane folder of the served store: ``<store>/columnar``, else ``IGKG_COLUMNAR``."""
    local = Path(location) / COLUMNAR_FOLDER
    if local.is_dir():
        return local
    configured = Settings.from_env().columnar
    return Path(configured) if configured and Path(configured).is_dir() else None


def _frame(bindings: list[dict[str, Any]], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame([{k: v.get("value") for k, v in row.items()} for row in bindings])
    for column in numeric:
        if column in frame.columns:
            frame[column] = frame[column].astype(float)
    return frame


async def columnar_answer(service: Any, query: Any, values: dict[str, Any], fmt: str | None, accept: str | None,
                          lane: str) -> Response | None:
    """The answer of ``query`` with values from the data plane, or ``None`` to run it as plain SPARQL."""
    spec = COLUMNAR_QUERIES.get(query.name)
    root = plane_root(service.location) if spec is not None else None
    if spec is None or root is None:
        return None
    graphs = columnar_graphs(_frame(await service.select(with_prefixes(COLUMNAR_SOURCES_QUERY), lane=lane)))
    if not graphs:
        return None
    catalog = _frame(await service.select(with_prefixes(MATRIX_FILES_QUERY), lane=lane))
    if catalog.empty:
        return None
    catalog = catalog[(catalog["kind"] == spec.kind) & catalog["graph"].isin(graphs)]
    files = records_from_frame(catalog)
    if not files:
        return None
    sparql, bindings = query.render(values)
    plain = _frame(await service.select(bind_values(sparql, bindings), lane=lane), (spec.value,))
    entity_sparql, entity_bindings = replace(query, sparql=spec.entity_query()).render(values)
    entities = _frame(await service.select(bind_values(entity_sparql, entity_bindings), lane=lane))
    if plain.empty:
        plain = pd.DataFrame(columns=[c for c in _columns(query)])
    params = {p.name: values.get(p.name, p.default) for p in query.params}
    plane = DataPlane(root)
    try:
        frame = await asyncio.to_thread(combine, spec, params, plain, entities,
                                        lambda subjects, variables: plane.values(files, subjects, variables))
    finally:
        plane.close()
    return _respond(frame, spec.value, fmt, accept)


def _columns(query: Any) -> list[str]:
    head = query.sparql.split("WHERE", 1)[0]
    return [c[1:] for c in head[head.upper().index("SELECT"):].split() if c.startswith("?")]


def _respond(frame: pd.DataFrame, value: str, fmt: str | None, accept: str | None) -> Response:
    wants_csv = fmt == "csv" or (fmt is None and accept is not None and "text/csv" in accept)
    headers = {"X-IGKG-Rows": str(len(frame)), "X-IGKG-Values": "columnar"}
    if wants_csv:
        return Response(content=frame.to_csv(index=False), media_type="text/csv", headers=headers)
    rows = []
    for record in frame.to_dict(orient="records"):
        row = {}
        for key, cell in record.items():
            if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                continue
            if key == value:
                row[key] = {"type": "literal", "datatype": XSD_DOUBLE, "value": repr(float(cell))}
            elif isinstance(cell, str) and cell.startswith(("http://", "https://", "urn:")):
                row[key] = {"type": "uri", "value": cell}
            else:
                row[key] = {"type": "literal", "value": str(cell)}
        rows.append(row)
    body = {"head": {"vars": list(frame.columns)}, "results": {"bindings": rows}}
    return Response(content=json.dumps(body), media_type="application/sparql-results+json", headers=headers)
