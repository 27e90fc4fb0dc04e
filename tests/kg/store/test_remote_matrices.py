"""A remote SPARQL store keeps its matrices in the folder named by ``IGKG_COLUMNAR``.

The remote server is igkg's own endpoint with updates enabled (a real HTTP SPARQL 1.1
server on 127.0.0.1); the store talks to it through ``sparql+http://``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from live_server import running_server

from kg import KnowledgeGraph
from kg.core.errors import ConfigError
from kg.endpoint import EndpointConfig, create_app
from kg.store.remote import RemoteKnowledgeGraph

TOKEN = "columnar-remote-token-0123456789"


def test_remote_store_matrices_live_in_igkg_columnar(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv"
    KnowledgeGraph(tmp_path / "served").close()
    monkeypatch.setenv("IGKG_STORE_TOKEN", TOKEN)
    monkeypatch.delenv("IGKG_COLUMNAR", raising=False)
    with running_server(create_app(tmp_path / "served", EndpointConfig(update_token=TOKEN, workers=1))) as base:
        remote = RemoteKnowledgeGraph("sparql+" + base + "/sparql")
        try:
            with pytest.raises(ConfigError, match="IGKG_COLUMNAR"):
                remote.load(table, kind="radiomics-csv", values="columnar")
            monkeypatch.setenv("IGKG_COLUMNAR", str(tmp_path / "plane"))
            remote._plane = None  # the setting is read when the data plane is first opened
            remote.load(table, kind="radiomics-csv", values="columnar")
            files = remote.matrix_files(kind="radiomics")
            assert len(files) == 1 and (tmp_path / "plane" / files[0].path).is_file()
            raw = pd.read_csv(table)
            raw.index = "https://w3id.org/igkg/id/subject/" + raw.pop("Case ID")
            matrix = remote.matrix()
            np.testing.assert_array_equal(matrix.loc[raw.index].to_numpy(), raw[list(matrix.columns)].to_numpy())
        finally:
            remote.close()
