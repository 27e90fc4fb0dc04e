"""Shared fixtures: the real public data beside the repo, and a fresh store per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import KnowledgeGraph

# Test helpers beside the tests (``live_server``, ``virtuoso``) are imported by module name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("IGKG_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real public files (UMLS and 'tests only' files are read from here only)."""
    if not SHARED.is_dir():
        pytest.fail(f"the shared data folder {SHARED} is missing (set IGKG_SHARED_DATA)")
    return SHARED


@pytest.fixture
def test_data() -> Path:
    """``tests/data``: small samples copied into the repo with their sources noted."""
    return TEST_DATA


@pytest.fixture
def kg() -> Iterator[KnowledgeGraph]:
    """A fresh in-memory knowledge graph."""
    graph = KnowledgeGraph(None)
    yield graph
    graph.close()


@pytest.fixture
def disk_kg(tmp_path: Path) -> Iterator[KnowledgeGraph]:
    """A fresh on-disk knowledge graph in a temporary folder."""
    graph = KnowledgeGraph(tmp_path / "store")
    yield graph
    graph.close()
