"""Named queries that read values answer from the data plane when a source keeps its values only there.

The NSCLC Radiogenomics feature table loaded ``--values both`` into one store and
``--values columnar`` into another: ``subjects_by_feature_and_marker`` gives the same rows,
through ``KnowledgeGraph.ask`` and through the REST route ``/api/queries/{name}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from live_server import running_server

from kg import KnowledgeGraph
from kg.endpoint import EndpointConfig, create_app

PARAMS = {"feature": "original_shape_Sphericity", "gene": "EGFR", "status": "Wildtype", "value_min": "0.3", "value_max": "0.45"}


def _store(folder: Path, shared: Path, values: str) -> Path:
    with KnowledgeGraph(folder) as kg:
        kg.load(shared / "radiogenomics" / "nsclc_radiogenomics_original_features.csv", kind="radiomics-csv", values=values)
    return folder


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("columnar-queries")
    return {values: _store(base / values, shared_data, values) for values in ("both", "columnar")}


@pytest.fixture(scope="module")
def graph_rows(stores: dict[str, Path]) -> pd.DataFrame:
    with KnowledgeGraph(stores["both"]) as kg:
        rows = kg.ask("subjects_by_feature_and_marker", **PARAMS)
    assert 10 < len(rows) < 60
    return rows


def test_ask_takes_the_values_from_the_data_plane(stores: dict[str, Path], graph_rows: pd.DataFrame) -> None:
    with KnowledgeGraph(stores["columnar"]) as kg:
        assert int(kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?m a igkg:FeatureMeasurement }")["n"].iloc[0]) == 0
        rows = kg.ask("subjects_by_feature_and_marker", **PARAMS)
    pd.testing.assert_frame_equal(rows, graph_rows, check_dtype=False)
    assert rows["value"].between(0.3, 0.45).all() and set(rows["marker_status"]) == {"Wildtype"}


@pytest.fixture(scope="module")
def url(stores: dict[str, Path]) -> Iterator[str]:
    with running_server(create_app(stores["columnar"], EndpointConfig(timeout=60, workers=1))) as base:
        yield base


def test_rest_route_answers_from_the_data_plane(url: str, graph_rows: pd.DataFrame) -> None:
    answer = httpx.get(url + "/api/queries/subjects_by_feature_and_marker", params=PARAMS, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-igkg-values"] == "columnar"
    body = answer.json()
    assert body["head"]["vars"] == list(graph_rows.columns)
    rows = [{k: v["value"] for k, v in b.items()} for b in body["results"]["bindings"]]
    got = pd.DataFrame(rows)[list(graph_rows.columns)]
    got["value"] = got["value"].astype(float)
    pd.testing.assert_frame_equal(got, graph_rows, check_dtype=False)
    csv = httpx.get(url + "/api/queries/subjects_by_feature_and_marker", params={**PARAMS, "format": "csv"}, timeout=60)
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.count("\n") == len(graph_rows) + 1
