"""Shared fixtures: the real public data beside the repo, and a fresh store per test.

A store that is slow to build is built once per session into a template folder
(``store_template``) and copied for each test (``fresh_store``): every test gets its own
store, and none pays for building it again.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Callable[[KnowledgeGraph], object]], Path]:
    """``store_template(name, build)``: the folder of an on-disk store built once per session by ``build(kg)``.

    Never open a template for writing in a test: copy it with ``fresh_store``.
    """
    built: dict[str, Path] = {}

    def template(name: str, build: Callable[[KnowledgeGraph], object]) -> Path:
        if name not in built:
            folder = tmp_path_factory.mktemp(f"template-{name}") / "store"
            kg = KnowledgeGraph(folder)
            try:
                build(kg)
            finally:
                kg.close()
                del kg
                gc.collect()  # the database is released only when the last reference goes
            built[name] = folder
        return built[name]

    return template


@pytest.fixture
def fresh_store(tmp_path: Path) -> Callable[[Path], Path]:
    """``fresh_store(template)``: a private copy of a template store folder for this test."""
    copies = iter(range(1_000_000))

    def copy(template: Path) -> Path:
        target = tmp_path / f"store-{next(copies)}"
        shutil.copytree(template, target, ignore=shutil.ignore_patterns("LOCK"))
        return target

    return copy
